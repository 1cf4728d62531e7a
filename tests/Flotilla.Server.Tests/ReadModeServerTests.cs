using System.Net;
using Flotilla.Kv.Client;
using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Server.Tests.Support;

namespace Flotilla.Server.Tests;

/// <summary>Three in-process members on real time and loopback gRPC, with <c>--reads lease</c> and
/// <c>--reads follower</c>: gets are answered where the mode says (docs/raft.md "Reads").</summary>
public class ReadModeServerTests
{
    [Theory]
    [InlineData(ReadMode.Follower)]
    [InlineData(ReadMode.Lease)]
    public async Task GetsAreAnsweredInTheReadMode(ReadMode reads)
    {
        var ports = Enumerable.Range(0, 3).Select(_ => CliProcess.FreePort()).ToList();
        var members = Enumerable.Range(1, 3).ToDictionary(i => new NodeId(i), i => new Uri($"http://127.0.0.1:{ports[i - 1]}"));
        var dirs = Enumerable.Range(1, 3).Select(i => Path.Combine(Path.GetTempPath(), $"flotilla-reads-{reads}-{i}-{Guid.NewGuid():N}")).ToList();
        var servers = new List<FlotillaServer>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                servers.Add(await FlotillaServer.StartAsync(new ServerOptions
                {
                    Id = new NodeId(i), Listen = new IPEndPoint(IPAddress.Loopback, ports[i - 1]), Members = members,
                    DataDirectory = dirs[i - 1], InsecurePeers = true, Reads = reads,
                }, new KvServerApplication()));
            }
            var options = new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(20) };
            using var all = new GrpcKvChannel(members.Values.ToList());
            var writer = new KvClient(all, TimeProvider.System, new Random(1), options);
            Assert.Equal(KvStatus.Ok, (await writer.PutAsync("k", "v1", 0)).Status);
            var leader = -1;
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                for (var i = 0; i < 3; i++) if ((await servers[i].SnapshotAsync()).IsLeader) leader = i;
                return leader >= 0;
            }, TimeSpan.FromSeconds(20)));
            // Follower reads: a member that does not lead answers. Lease reads: the leader answers (twice, so the
            // second surely meets a lease renewed by heartbeats).
            var target = reads == ReadMode.Follower ? (leader + 1) % 3 : leader;
            using var one = new GrpcKvChannel([members[new NodeId(target + 1)]]);
            var reader = new KvClient(one, TimeProvider.System, new Random(2), options with { OperationTimeout = TimeSpan.FromSeconds(5) });
            for (var n = 0; n < 2; n++)
            {
                var get = await reader.GetAsync("k");
                Assert.Equal((KvStatus.Ok, "v1"), (get.Status, get.Value));
                await Task.Delay(150);
            }
            Assert.Equal(KvStatus.Ok, (await writer.PutAsync("k", "v2", 1)).Status);
            var after = await reader.GetAsync("k");
            Assert.Equal((KvStatus.Ok, "v2"), (after.Status, after.Value)); // the put completed before the get began
            // Answered where asked: no ERR_WRONG_SERVER redirected the reader to another member.
            Assert.Equal(0, reader.HintsReceived);
        }
        finally
        {
            foreach (var s in servers) await s.DisposeAsync();
            foreach (var d in dirs.Where(Directory.Exists)) Directory.Delete(d, recursive: true);
        }
    }
}
