using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tests;

public sealed class PeerRestartTests
{
    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task CallsAndMessagesWorkAgainAfterThePeerRestartsOnTheSamePort(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        var port = b.PeerAddress.Port;
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        Assert.Equal(RpcStatus.Ok, (await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 1 }, deadline.Token)).Status);
        a.Transport.Send(b.Id, "test/before", new byte[] { 1 });
        await Wait.UntilAsync(() => a.Transport.Stats.MessagesWritten == 1, "the first message on the stream");

        await nodes.KillAsync(b);
        var whileDown = await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 2 }, deadline.Token);
        Assert.True(whileDown.Status == RpcStatus.Unavailable, $"expected Unavailable, got {whileDown}");

        RecordingHandler reborn = null!;
        b = await nodes.StartAsync(2, port, beforeStart: h => h.Context.Router.Map("test", reborn = new RecordingHandler(h.Context)));
        Assert.Equal(port, b.PeerAddress.Port);

        await Wait.UntilAsync(async () => (await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 3 }, deadline.Token)).IsOk,
            "a successful call to the restarted peer");
        // One-way messages are best effort: the first ones may die with the broken stream. Keep sending until
        // the pump has reconnected, then check that what follows arrives complete and in order.
        await Wait.UntilAsync(() =>
        {
            a.Transport.Send(b.Id, "test/probe", new byte[] { 0 });
            return !reborn.Messages.IsEmpty;
        }, "a one-way message at the restarted peer");
        for (var i = 1; i <= 100; i++) a.Transport.Send(b.Id, "test/seq", new[] { (byte)i });
        await Wait.UntilAsync(() => reborn.Messages.Count(m => m.Method == "test/seq") == 100, "100 messages after the restart");
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (byte)i),
            reborn.Messages.Where(m => m.Method == "test/seq").Select(m => m.Payload[0]));
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task TransportFollowsAPeerThatMovedToANewAddress(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        var oldAddress = b.PeerAddress;
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        Assert.True((await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 1 }, deadline.Token)).IsOk);

        await nodes.KillAsync(b);
        RecordingHandler moved = null!;
        b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", moved = new RecordingHandler(h.Context)));
        Assert.NotEqual(oldAddress, b.PeerAddress);

        var reply = await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 2 }, deadline.Token);
        a.Transport.Send(b.Id, "test/hello", new byte[] { 3 });

        Assert.Equal(RpcStatus.Ok, reply.Status);
        await Wait.UntilAsync(() => !moved.Messages.IsEmpty, "a message at the moved peer");
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task NodeWithOpenInboundStreamsStopsWellWithinItsShutdownTimeout(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var c = await nodes.StartAsync(3);
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));
        a.Transport.Send(b.Id, "test/open", new byte[] { 1 });
        c.Transport.Send(b.Id, "test/open", new byte[] { 1 });
        await Wait.UntilAsync(() => handler.Messages.Count == 2, "both inbound streams open at n2");

        // Inbound streams never end on their own; a server that waited for them would take the full 5 s timeout.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await nodes.KillAsync(b);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"stopping took {clock.Elapsed}");
    }
}
