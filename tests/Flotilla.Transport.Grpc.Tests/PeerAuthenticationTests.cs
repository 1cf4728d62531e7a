using System.Net.Sockets;
using System.Text;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Transport.Grpc.Tcp;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>Peers prove the cluster's id and secret on every connection, and then speak only for themselves.</summary>
public sealed class PeerAuthenticationTests
{
    private static PeerSecurity Secure(ClusterCredentials? credentials = null, TimeSpan? handshakeTimeout = null) => new()
    {
        Credentials = credentials ?? SecureNodes.Credentials(),
        HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(5),
    };

    [Theory]
    [InlineData(PeerProtocol.Tcp)]
    [InlineData(PeerProtocol.Grpc)]
    public async Task MembersWithTheClusterSecretCallAndMessageEachOther(PeerProtocol protocol)
    {
        await using var nodes = new SecureNodes(protocol);
        var (a, _) = await nodes.StartAsync(1, Secure());
        var (b, inbox) = await nodes.StartAsync(2, Secure());
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(b.Id, "test/echo", "hi"u8.ToArray(), deadline.Token);
        a.Transport.Send(b.Id, "test/note", "one-way"u8.ToArray());

        Assert.Equal(RpcStatus.Ok, reply.Status);
        Assert.Equal("hi", Encoding.UTF8.GetString(reply.Payload.Span));
        await Wait.UntilAsync(() => !inbox.Messages.IsEmpty, "the one-way message");
        Assert.True(inbox.Messages.TryPeek(out var message));
        Assert.Equal(new NodeId(1), message.From);
    }

    [Theory]
    [InlineData(PeerProtocol.Tcp, "test-cluster", "another secret, another cluster", "cluster secret is wrong")]
    [InlineData(PeerProtocol.Tcp, "other-cluster", "the shared secret of the test cluster", "another cluster")]
    [InlineData(PeerProtocol.Grpc, "test-cluster", "another secret, another cluster", "PermissionDenied")]
    [InlineData(PeerProtocol.Grpc, "other-cluster", "the shared secret of the test cluster", "PermissionDenied")]
    public async Task AMemberOfAnotherClusterIsRefusedAndReachesNoHandler(PeerProtocol protocol, string clusterId, string secret, string expected)
    {
        await using var nodes = new SecureNodes(protocol);
        var (stranger, _) = await nodes.StartAsync(1, Secure(SecureNodes.Credentials(clusterId, secret)));
        var (b, inbox) = await nodes.StartAsync(2, Secure());
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        stranger.Transport.Send(b.Id, "test/note", "forged"u8.ToArray());
        var reply = await stranger.Transport.CallAsync(b.Id, "test/echo", "hi"u8.ToArray(), deadline.Token);

        Assert.NotEqual(RpcStatus.Ok, reply.Status);
        Assert.Contains(expected, reply.Error);
        Assert.Equal(0, inbox.Invocations);
    }

    [Fact]
    public async Task AStrayConnectionIsRefusedBeforeAnyOfItsFramesIsRead()
    {
        await using var nodes = new SecureNodes(PeerProtocol.Tcp);
        var (a, _) = await nodes.StartAsync(1, Secure());
        var (b, inbox) = await nodes.StartAsync(2, Secure());
        using var stray = await ConnectAsync(b);

        // What a process on the machine could always do before: write a well-formed frame claiming to be node 1.
        await stray.WriteAsync(Frame.Encode(FrameKind.Message, 0, a.Id, "test/note", new byte[100]));
        var answer = await ReadToEndAsync(stray);

        Assert.Equal(37 + 1, answer.Length); // the server's hello, then one refusal byte, then it hung up
        Assert.Equal((byte)PeerHandshake.Refusal.Malformed, answer[^1]);
        Assert.Equal(0, inbox.Invocations);
    }

    [Fact]
    public async Task AForgedFromOnAnAuthenticatedConnectionIsDroppedAndEndsTheConnection()
    {
        await using var nodes = new SecureNodes(PeerProtocol.Tcp);
        var (a, _) = await nodes.StartAsync(1, Secure());
        var (b, inbox) = await nodes.StartAsync(2, Secure());
        await nodes.StartAsync(3, Secure());
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        using var member = await ConnectAsync(b);
        await PeerHandshake.ClientAsync(member, SecureNodes.Credentials(), a.Id, b.Id, deadline.Token);

        await member.WriteAsync(Frame.Encode(FrameKind.Message, 0, a.Id, "test/note", "honest"u8), deadline.Token);
        await Wait.UntilAsync(() => inbox.Messages.Count == 1, "the honest message");
        await member.WriteAsync(Frame.Encode(FrameKind.Message, 0, new NodeId(3), "test/note", "forged"u8), deadline.Token);
        await member.WriteAsync(Frame.Encode(FrameKind.Message, 0, a.Id, "test/note", "after"u8), deadline.Token);

        Assert.Empty(await ReadToEndAsync(member)); // closed, nothing said
        Assert.Single(inbox.Messages);
        Assert.Equal("honest", Encoding.UTF8.GetString(inbox.Messages.Single().Payload));
    }

    [Fact]
    public async Task AnIdOutsideThePeerSetIsRefusedEvenWithTheSecret()
    {
        await using var nodes = new SecureNodes(PeerProtocol.Tcp);
        var (b, inbox) = await nodes.StartAsync(2, Secure());
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        using var stranger = await ConnectAsync(b);

        var refused = await Assert.ThrowsAsync<PeerHandshakeException>(() =>
            PeerHandshake.ClientAsync(stranger, SecureNodes.Credentials(), new NodeId(9), b.Id, deadline.Token));

        Assert.Contains("not in the peer set", refused.Message);
        Assert.Equal(0, inbox.Invocations);
    }

    [Fact]
    public async Task AListenerThatCannotProveTheSecretIsNotTrustedByTheCaller()
    {
        await using var nodes = new SecureNodes(PeerProtocol.Tcp);
        // Node 2's address is served by a process that knows the cluster id but not the secret.
        var (a, _) = await nodes.StartAsync(1, Secure());
        var (impostor, inbox) = await nodes.StartAsync(2, Secure(SecureNodes.Credentials(secret: "an impostor's guess at the secret")));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(impostor.Id, "test/echo", "hi"u8.ToArray(), deadline.Token);

        Assert.Equal(RpcStatus.Unavailable, reply.Status);
        Assert.Equal(0, inbox.Invocations);
    }

    [Fact]
    public async Task ASilentConnectionIsClosedAtTheHandshakeTimeout()
    {
        await using var nodes = new SecureNodes(PeerProtocol.Tcp);
        var (b, _) = await nodes.StartAsync(2, Secure(handshakeTimeout: TimeSpan.FromMilliseconds(300)));
        using var silent = await ConnectAsync(b);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var answer = await ReadToEndAsync(silent);

        Assert.Equal(37, answer.Length); // the hello, then nothing until it hung up
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(250), $"closed after {started.Elapsed}");
    }

    [Fact]
    public async Task GrpcPeerCallsWithoutCredentialsOrWithAForgedFromAreRefused()
    {
        await using var nodes = new SecureNodes(PeerProtocol.Grpc);
        var (b, inbox) = await nodes.StartAsync(2, Secure());
        nodes.Directory.Set(new NodeId(1), new Uri("http://127.0.0.1:1")); // a member, not running: the test speaks for it
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(b.Address);
        var peer = new Protos.Peer.PeerClient(channel);
        var request = new Protos.PeerRequest { From = 1, Method = "test/echo", Payload = Google.Protobuf.ByteString.CopyFromUtf8("hi") };
        var asMember1 = new global::Grpc.Core.Metadata
        {
            { GrpcPeerAuth.MemberHeader, "1" },
            { GrpcPeerAuth.ProofHeader, GrpcPeerAuth.Proof(SecureNodes.Credentials(), new NodeId(1), b.Id) },
        };

        var anonymous = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(async () => await peer.CallAsync(request));
        var forged = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(async () =>
            await peer.CallAsync(new Protos.PeerRequest(request) { From = 3 }, asMember1));
        var honest = await peer.CallAsync(request, asMember1);

        Assert.Equal(global::Grpc.Core.StatusCode.Unauthenticated, anonymous.StatusCode);
        Assert.Equal(global::Grpc.Core.StatusCode.PermissionDenied, forged.StatusCode);
        Assert.Equal("hi", honest.Payload.ToStringUtf8());
        Assert.Equal(1, inbox.Invocations);
    }

    private static async Task<NetworkStream> ConnectAsync(RealNodeHost host)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host.PeerAddress.Host, host.PeerAddress.Port);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Everything the server sends until it closes the connection (bounded by the test deadline).</summary>
    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        var received = new MemoryStream();
        var buffer = new byte[256];
        try
        {
            while (await stream.ReadAsync(buffer, deadline.Token) is var n and > 0) received.Write(buffer, 0, n);
        }
        catch (IOException) { /* reset instead of a clean close: also the end */ }
        return received.ToArray();
    }
}
