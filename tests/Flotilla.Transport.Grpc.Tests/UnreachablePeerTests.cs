using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tests;

public sealed class UnreachablePeerTests
{
    private static readonly NodeId Ghost = new(9);

    /// <summary>A loopback port that was free a moment ago and that nothing listens on now.</summary>
    private static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task CallToAPortNothingListensOnIsUnavailableQuickly(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        nodes.Directory.Set(Ghost, nodes.AddressFor(ClosedPort()));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));

        var clock = Stopwatch.StartNew();
        var reply = await a.Transport.CallAsync(Ghost, "test/echo", new byte[] { 1 }, deadline.Token);

        Assert.Equal(RpcStatus.Unavailable, reply.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task CallToANodeWithNoAddressIsUnavailable(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);

        var reply = await a.Transport.CallAsync(Ghost, "test/echo", new byte[] { 1 }, CancellationToken.None);

        Assert.Equal(RpcStatus.Unavailable, reply.Status);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task CallToAPeerThatAcceptsButNeverAnswersTimesOutAtItsDeadline(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        // Accept connections and hold them open without ever writing a byte.
        var held = new List<TcpClient>();
        var acceptor = Task.Run(async () =>
        {
            try { while (true) held.Add(await silent.AcceptTcpClientAsync()); }
            catch (Exception) { /* listener stopped */ }
        });
        nodes.Directory.Set(Ghost, nodes.AddressFor(((IPEndPoint)silent.LocalEndpoint).Port));

        var clock = Stopwatch.StartNew();
        var reply = await a.Transport.CallAsync(Ghost, "test/echo", new byte[] { 1 }, TimeSpan.FromMilliseconds(500), TimeProvider.System);

        Assert.Equal(RpcStatus.Timeout, reply.Status);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(3));
        silent.Stop();
        await acceptor;
        foreach (var client in held) client.Dispose();
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task CallWithoutADeadlineEndsAsTimeoutAfterTheTransportsMaximumAndCancelsTheHandler(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1, options: TestNodes.FastOptions with { CallDeadlineMax = TimeSpan.FromSeconds(1) });
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));
        // Connect and warm up first (a cold process can spend the whole deadline on JIT and connection set-up),
        // so the deadline below is spent in the handler.
        await Wait.UntilAsync(async () => (await a.Transport.CallAsync(b.Id, "test/echo", new byte[] { 1 }, CancellationToken.None)).IsOk,
            "a first successful call");

        var warmUpInvocations = handler.Invocations;
        var clock = Stopwatch.StartNew();
        var call = a.Transport.CallAsync(b.Id, "test/slow", ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        await Wait.UntilAsync(() => handler.Invocations > warmUpInvocations, "the slow call to reach the handler");
        var reply = await call.WaitAsync(Wait.Deadline);

        Assert.Equal(RpcStatus.Timeout, reply.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        await Wait.UntilAsync(() => handler.CancelledCalls == 1, "the server-side handler to see the deadline");
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task CallCancelledByTheCallerEndsAsCancelledAndCancelsTheHandler(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));
        using var cancel = new CancellationTokenSource();

        var call = a.Transport.CallAsync(b.Id, "test/slow", ReadOnlyMemory<byte>.Empty, cancel.Token);
        await Wait.UntilAsync(() => handler.Invocations > 0, "the call to reach the handler");
        await cancel.CancelAsync();
        var reply = await call.WaitAsync(Wait.Deadline);

        Assert.Equal(RpcStatus.Cancelled, reply.Status);
        await Wait.UntilAsync(() => handler.CancelledCalls == 1, "the server-side handler to see the cancellation");
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task SendToADeadPeerNeverBlocksAndDropsBeyondTheQueueLimit(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1, options: TestNodes.FastOptions with { OutboundQueueLength = 100 });
        nodes.Directory.Set(Ghost, nodes.AddressFor(ClosedPort()));

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 10_000; i++) a.Transport.Send(Ghost, "test/seq", new byte[16]);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"10k sends took {clock.Elapsed}");
        // Once the pump's connect attempt has failed, only the queue (100) can still hold messages: every other
        // message was dropped or lost with the failed batch, not buffered without limit.
        await Wait.UntilAsync(() => a.Transport.Stats.DroppedQueueFull + a.Transport.Stats.LostOnBrokenStream >= 10_000 - 100,
            "all but a queue's worth of messages dropped or lost");
        var stats = a.Transport.Stats;
        Assert.Equal(0, stats.MessagesWritten);
    }
}
