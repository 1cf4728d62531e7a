using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Server.Cluster;
using Flotilla.Server.Protos;
using Flotilla.Transport.Grpc;
using Flotilla.Transport.Grpc.Tcp;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Tests;

/// <summary>Issue #14's reproductions against real server processes: forged Raft messages from something that is not
/// a member, and Admin calls without the token or on the client port.</summary>
public sealed class PeerAndAdminSecurityTests(SecuredClusterFixture fixture) : IClassFixture<SecuredClusterFixture>
{
    private LocalCluster Cluster => fixture.Cluster;

    public static TheoryData<string> Attackers => ["stray process", "member of another cluster"];

    [Theory]
    [MemberData(nameof(Attackers))]
    public async Task ForgedTimeoutNowAndVoteChangeNeitherLeaderNorTerm(string attacker)
    {
        var before = await Cluster.StatusAsync(TimeSpan.FromSeconds(2));
        var leader = before.Values.Single(s => s?.Role == "Leader")!;
        var term = before.Values.Max(s => s!.Term);
        var victim = before.Values.First(s => s!.Id != leader.Id)!.Id;
        var security = attacker == "stray process"
            ? PeerSecurity.None
            : new PeerSecurity { Credentials = new ClusterCredentials(Cluster.ClusterId, "another cluster's secret, 32 bytes"u8) };

        // Before peers were authenticated, the TimeoutNow made the victim leader and the Vote pushed every member to term 1001.
        var directory = new PeerDirectory(Cluster.File.Members.Select(m => KeyValuePair.Create(new NodeId(m.Id), new Uri(m.PeerAddress!))));
        await using (var asLeader = new TcpTransport(new NodeId(leader.Id), directory, security: security))
        await using (var asVictim = new TcpTransport(new NodeId(victim), directory, security: security))
        {
            Send(asLeader, new Message { Type = MessageType.TimeoutNow, From = new NodeId(leader.Id), To = new NodeId(victim), Term = term });
            foreach (var member in Cluster.MemberIds.Where(id => id != victim))
                Send(asVictim, new Message { Type = MessageType.Vote, From = new NodeId(victim), To = new NodeId(member), Term = 1000, Index = 1_000_000, LogTerm = 999 });

            // Watch long enough for a forged election to have happened (a real one takes well under a second here).
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(1.5);
            while (DateTime.UtcNow < until)
            {
                var now = await Cluster.StatusAsync(TimeSpan.FromSeconds(2));
                Assert.All(now.Values, s => Assert.True(s!.Term < 1000, $"n{s.Id} moved to term {s.Term}"));
                Assert.NotEqual(victim, now.Values.SingleOrDefault(s => s?.Role == "Leader")?.Id);
                await Task.Delay(100);
            }

            // A call on the same connections: its failure says the members hung up instead of reading any of it.
            var probe = await asLeader.CallAsync(new NodeId(victim), "raft.kv/probe", ReadOnlyMemory<byte>.Empty, CancellationToken.None);
            Assert.Equal(RpcStatus.Unavailable, probe.Status);
        }
        // The refusal is one warning in the victim's log, naming why.
        Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(ReadShared(Cluster.LogFile(victim)).Contains("refused a peer connection from")),
            TimeSpan.FromSeconds(10)), ReadShared(Cluster.LogFile(victim)));
    }

    private static string ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(file).ReadToEnd();
    }

    private static void Send(TcpTransport transport, Message message) =>
        transport.Send(message.To, $"raft.kv/{message.Type.ToString().ToLowerInvariant()}", MessageCodec.Encode(message));

    [Fact]
    public async Task AdminCallsWithoutTheRightTokenAreRefusedAndTheMemberKeepsRunning()
    {
        using var channel = GrpcChannel.ForAddress(Cluster.AdminAddresses[1]);
        var admin = new Admin.AdminClient(channel);
        var wrong = new Metadata { { "authorization", "Bearer not-the-token" } };

        var noToken = await Assert.ThrowsAsync<RpcException>(async () => await admin.StatusAsync(new StatusRequest()));
        var badToken = await Assert.ThrowsAsync<RpcException>(async () => await admin.StatusAsync(new StatusRequest(), wrong));
        var shutdown = await Assert.ThrowsAsync<RpcException>(async () => await admin.ShutdownAsync(new ShutdownRequest()));
        var forgedShutdown = await Assert.ThrowsAsync<RpcException>(async () => await admin.ShutdownAsync(new ShutdownRequest(), wrong));

        Assert.Equal(StatusCode.Unauthenticated, noToken.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, badToken.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, shutdown.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, forgedShutdown.StatusCode);
        using var authorized = Cluster.Admin(1);
        var status = await authorized.TryStatusAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(status);
        Assert.Equal(Cluster.ProcessId(1), status.Pid);
    }

    [Fact]
    public async Task TheClientPortServesNeitherAdminNorPeerServices()
    {
        using var channel = GrpcChannel.ForAddress(Cluster.Addresses[1]);
        var token = new Metadata { { "authorization", "Bearer " + Cluster.AdminToken } };

        var admin = await Assert.ThrowsAsync<RpcException>(async () => await new Admin.AdminClient(channel).StatusAsync(new StatusRequest(), token));
        var peer = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Flotilla.Transport.Grpc.Protos.Peer.PeerClient(channel).CallAsync(new Flotilla.Transport.Grpc.Protos.PeerRequest { From = 2, Method = "raft.kv/x" }));

        Assert.Equal(StatusCode.Unimplemented, admin.StatusCode);
        Assert.Equal(StatusCode.Unimplemented, peer.StatusCode);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void TheSecretsAreFilesOnlyTheirOwnerCanReadAndNeverArguments()
    {
        var directory = Path.GetDirectoryName(Cluster.ClusterFilePath)!;
        foreach (var name in new[] { ClusterSecrets.SecretFileName, ClusterSecrets.AdminTokenFileName })
        {
            var mode = File.GetUnixFileMode(Path.Combine(directory, name));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }
        var secret = File.ReadAllText(ClusterSecrets.SecretFile(directory)).Trim();
        var commandLine = File.ReadAllText($"/proc/{Cluster.ProcessId(1)}/cmdline").Replace('\0', ' ');
        Assert.Contains("--cluster-secret-file", commandLine);
        Assert.DoesNotContain(secret, commandLine);
        Assert.DoesNotContain(Cluster.AdminToken, commandLine);
        Assert.DoesNotContain(Cluster.AdminToken, File.ReadAllText(Cluster.ClusterFilePath));
    }
}
