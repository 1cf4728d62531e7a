using System.Net.Sockets;
using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tests;

public sealed class HandlerFailureTests
{
    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task HandlerThatThrowsIsFailedWithItsMessage(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(b.Id, "test/fail", "boom"u8.ToArray(), deadline.Token);

        Assert.Equal(RpcStatus.Failed, reply.Status);
        Assert.Equal("handler exploded: boom", reply.Error);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task UnknownServiceAndUnknownMethodAreFailed(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var noService = await a.Transport.CallAsync(b.Id, "nobody/here", new byte[] { 1 }, deadline.Token);
        var noMethod = await a.Transport.CallAsync(b.Id, "test/nothing", new byte[] { 1 }, deadline.Token);

        Assert.Equal(RpcStatus.Failed, noService.Status);
        Assert.Contains("unknown method 'nobody/here'", noService.Error);
        Assert.Equal(RpcStatus.Failed, noMethod.Status);
        Assert.Contains("unknown method 'test/nothing'", noMethod.Error);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task MalformedRequestBytesFailTheCallButNotTheServer(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var bad = await a.Transport.CallAsync(b.Id, "test/int", new byte[] { 1, 2, 3 }, deadline.Token);
        var good = await a.Transport.CallAsync(b.Id, "test/int", BitConverter.GetBytes(41), deadline.Token);

        Assert.Equal(RpcStatus.Failed, bad.Status);
        Assert.Contains("expected 4 bytes", bad.Error);
        Assert.Equal(RpcStatus.Ok, good.Status);
        Assert.Equal(42, BitConverter.ToInt32(good.Payload.Span));
    }

    [Fact]
    public async Task GarbageOnThePeerEndpointIsRejectedAndTheServerKeepsServing()
    {
        await using var nodes = new TestNodes(PeerProtocol.Grpc);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        // A gRPC frame header claiming 5 bytes of protobuf, followed by bytes that are not valid protobuf.
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var garbage = new ByteArrayContent([0, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        garbage.Headers.ContentType = new("application/grpc");
        using var response = await http.PostAsync(new Uri(b.Address, "/flotilla.peer.v1.Peer/Call"), garbage, deadline.Token);
        await response.Content.ReadAsByteArrayAsync(deadline.Token);
        var grpcStatus = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.Single()
            : response.Headers.GetValues("grpc-status").Single();

        Assert.NotEqual("0", grpcStatus);
        var after = await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 7 }, deadline.Token);
        Assert.Equal(RpcStatus.Ok, after.Status);
    }

    [Fact]
    public async Task GarbageOnTheTcpPeerPortClosesOnlyThatConnection()
    {
        await using var nodes = new TestNodes(PeerProtocol.Tcp);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        Assert.True((await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 1 }, deadline.Token)).IsOk);

        // A frame of a kind that does not exist: the server must hang up on this connection and nothing else.
        using var rogue = new TcpClient();
        await rogue.ConnectAsync(b.PeerAddress.Host, b.PeerAddress.Port, deadline.Token);
        var stream = rogue.GetStream();
        await stream.WriteAsync(new byte[] { 15, 0, 0, 0, 0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 }, deadline.Token);
        var closedByServer = await stream.ReadAsync(new byte[1], deadline.Token);

        Assert.Equal(0, closedByServer);
        var after = await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 7 }, deadline.Token);
        Assert.Equal(RpcStatus.Ok, after.Status);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task OversizedRequestFailsAndTheLinkKeepsWorking(PeerProtocol protocol)
    {
        var small = TestNodes.FastOptions with { MaxMessageBytes = 64 * 1024 };
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1, options: small);
        var b = await nodes.StartAsync(2, options: small, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var tooBig = await a.Transport.CallAsync(b.Id, "test/echo", new byte[128 * 1024], deadline.Token);
        var fits = await a.Transport.CallAsync(b.Id, "test/echo", new byte[32 * 1024], deadline.Token);

        Assert.Equal(RpcStatus.Failed, tooBig.Status);
        Assert.False(string.IsNullOrEmpty(tooBig.Error));
        Assert.Equal(RpcStatus.Ok, fits.Status);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task ReplyLargerThanTheCallersLimitFailsInsteadOfCrashing(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1, options: TestNodes.FastOptions with { MaxMessageBytes = 64 * 1024 });
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(b.Id, "test/big", BitConverter.GetBytes(128 * 1024), deadline.Token);
        var after = await a.Transport.CallAsync(b.Id, "test/big", BitConverter.GetBytes(1024), deadline.Token);

        Assert.Equal(RpcStatus.Failed, reply.Status);
        Assert.Contains("ResourceExhausted", reply.Error);
        Assert.Equal(RpcStatus.Ok, after.Status);
        Assert.Equal(1024, after.Payload.Length);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task OversizedOneWayMessageIsDroppedWithoutBreakingTheStream(PeerProtocol protocol)
    {
        var small = TestNodes.FastOptions with { MaxMessageBytes = 64 * 1024 };
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1, options: small);
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, options: small, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));

        a.Transport.Send(b.Id, "test/first", new byte[10]);
        a.Transport.Send(b.Id, "test/huge", new byte[128 * 1024]);
        a.Transport.Send(b.Id, "test/last", new byte[10]);
        await Wait.UntilAsync(() => handler.Messages.Count >= 2, "the two small messages at n2");

        Assert.Equal(["test/first", "test/last"], handler.Messages.Select(m => m.Method));
        Assert.Equal(1, a.Transport.Stats.DroppedTooLarge);
        Assert.Equal(1, a.Transport.Stats.StreamsOpened);
    }
}
