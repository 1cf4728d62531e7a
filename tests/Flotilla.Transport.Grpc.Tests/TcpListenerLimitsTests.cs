using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Transport.Grpc.Tcp;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>Measures the whole process (allocations, threads), so nothing else may run beside it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMeasuringCollection
{
    public const string Name = "measures the process";
}

/// <summary>
/// The framed-TCP peer port against connections that are not peers: frames far over the limit, frames declared large
/// and never finished, more connections than allowed, and connections that say nothing. Each is closed, what it can
/// make the node allocate or spawn is bounded, and a real peer keeps being served throughout.
/// </summary>
[Collection(ProcessMeasuringCollection.Name)]
public sealed class TcpListenerLimitsTests
{
    private static async Task<(TestNodes Nodes, RealNodeHost A, RealNodeHost B)> TwoNodesAsync(GrpcTransportOptions? options = null)
    {
        var nodes = new TestNodes(PeerProtocol.Tcp);
        var a = await nodes.StartAsync(1, options: options);
        var b = await nodes.StartAsync(2, options: options, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        return (nodes, a, b);
    }

    private static async Task<bool> EchoWorksAsync(RealNodeHost from, NodeId to)
    {
        using var deadline = new CancellationTokenSource(Wait.Deadline);
        var reply = await from.Transport.CallAsync(to, "test/echo", new byte[] { 42 }, deadline.Token);
        return reply.IsOk && reply.Payload.Span.SequenceEqual(new byte[] { 42 });
    }

    private static byte[] Prefix(uint length, FrameKind kind = FrameKind.Call)
    {
        var bytes = new byte[Frame.PrefixBytes + Frame.HeaderBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, length);
        bytes[4] = (byte)kind;
        return bytes;
    }

    /// <summary>True once the server hung up: the read ends (0 bytes) or the connection is reset.</summary>
    private static async Task<bool> ClosedByServerAsync(NetworkStream stream, CancellationToken deadline)
    {
        try
        {
            var buffer = new byte[4096];
            while (await stream.ReadAsync(buffer, deadline) > 0) { }
            return true;
        }
        catch (IOException) { return true; }
    }

    [Fact]
    public async Task ThirtyConnectionsSendingSixtyMegabyteFramesAreClosedAndMemoryStaysBounded()
    {
        var (nodes, a, b) = await TwoNodesAsync(TestNodes.FastOptions);
        await using var _ = nodes;
        Assert.True(await EchoWorksAsync(a, b.Id));
        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var chunk = new byte[1 << 20];
        var rogues = Enumerable.Range(0, 30).Select(async _ =>
        {
            using var rogue = new TcpClient();
            await rogue.ConnectAsync(b.PeerAddress.Host, b.PeerAddress.Port, deadline.Token);
            var stream = rogue.GetStream();
            try
            {
                await stream.WriteAsync(Prefix(60_000_000), deadline.Token);
                for (var sent = 0; sent < 60; sent++) await stream.WriteAsync(chunk, deadline.Token);
            }
            catch (IOException) { /* the server hung up mid-frame: what we want */ }
            return await ClosedByServerAsync(stream, deadline.Token);
        }).ToList();
        var closed = await Task.WhenAll(rogues);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var heapGrowth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;

        Assert.All(closed, Assert.True);
        // Reading those frames would have meant 1.8 GB; refusing them costs buffers and sockets only.
        Assert.True(allocated < 256L << 20, $"the process allocated {allocated >> 20} MiB while refusing 30 x 60 MB frames");
        Assert.True(heapGrowth < 64L << 20, $"the heap grew {heapGrowth >> 20} MiB");
        Assert.True(await EchoWorksAsync(a, b.Id), "the real peer is still served");
    }

    [Fact]
    public async Task FramesDeclaredLargeButNeverFinishedPinOnlyWhatArrived()
    {
        var (nodes, a, b) = await TwoNodesAsync(TestNodes.FastOptions);
        await using var _ = nodes;
        Assert.True(await EchoWorksAsync(a, b.Id));
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        // 30 frames just under the limit: 120 MiB if bodies were allocated from their declared length.
        var declared = (uint)(TestNodes.FastOptions.MaxMessageBytes - 4096);
        var rogues = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                var rogue = new TcpClient();
                rogues.Add(rogue);
                await rogue.ConnectAsync(b.PeerAddress.Host, b.PeerAddress.Port, deadline.Token);
                await rogue.GetStream().WriteAsync(Prefix(declared), deadline.Token);
                await rogue.GetStream().WriteAsync(new byte[1000], deadline.Token);
            }
            Assert.True(await EchoWorksAsync(a, b.Id), "the real peer is served while the frames stall");
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            Assert.True(allocated < 32L << 20, $"30 stalled frames made the process allocate {allocated >> 20} MiB");
        }
        finally
        {
            foreach (var rogue in rogues) rogue.Dispose();
        }
    }

    [Fact]
    public async Task ConnectionsBeyondTheLimitAreRefusedWithoutAThreadEach()
    {
        var options = TestNodes.FastOptions with { TcpLimits = new TcpListenerLimits { MaxConnections = 8 } };
        var (nodes, a, b) = await TwoNodesAsync(options);
        await using var _ = nodes;
        Assert.True(await EchoWorksAsync(a, b.Id)); // the real peer holds its slot from here on
        using var process = Process.GetCurrentProcess();
        var threadsBefore = process.Threads.Count;
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var rogues = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                var rogue = new TcpClient();
                rogues.Add(rogue);
                await rogue.ConnectAsync(b.PeerAddress.Host, b.PeerAddress.Port, deadline.Token);
            }
            // Whatever did not fit is hung up on: far more than the 8 - 1 free slots end closed.
            var closed = await Task.WhenAll(rogues.Select(async r =>
            {
                using var brief = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                brief.CancelAfter(TimeSpan.FromSeconds(2));
                try { return await ClosedByServerAsync(r.GetStream(), brief.Token); }
                catch (OperationCanceledException) { return false; }
            }));
            process.Refresh();
            var threadsGrowth = process.Threads.Count - threadsBefore;

            Assert.True(closed.Count(c => c) >= 300 - 8, $"only {closed.Count(c => c)} of 300 excess connections were closed");
            Assert.True(threadsGrowth < 50, $"300 connections added {threadsGrowth} threads");
            Assert.True(await EchoWorksAsync(a, b.Id), "the real peer is still served");
        }
        finally
        {
            foreach (var rogue in rogues) rogue.Dispose();
        }
    }

    [Fact]
    public async Task SilentAndIdleConnectionsAreClosedAndARealPeerReconnects()
    {
        var options = TestNodes.FastOptions with
        {
            TcpLimits = new TcpListenerLimits { FirstFrameTimeout = TimeSpan.FromMilliseconds(300), IdleTimeout = TimeSpan.FromMilliseconds(600) },
        };
        var (nodes, a, b) = await TwoNodesAsync(options);
        await using var _ = nodes;
        Assert.True(await EchoWorksAsync(a, b.Id));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        using var silent = new TcpClient();
        await silent.ConnectAsync(b.PeerAddress.Host, b.PeerAddress.Port, deadline.Token);
        using var idle = new TcpClient();
        await idle.ConnectAsync(b.PeerAddress.Host, b.PeerAddress.Port, deadline.Token);
        await idle.GetStream().WriteAsync(Frame.Encode(FrameKind.Message, 0, new NodeId(7), "test/hello", new byte[] { 1 }), deadline.Token);
        var clock = Stopwatch.StartNew();

        Assert.True(await ClosedByServerAsync(silent.GetStream(), deadline.Token));
        var silentFor = clock.Elapsed;
        Assert.True(await ClosedByServerAsync(idle.GetStream(), deadline.Token));
        var idleFor = clock.Elapsed;

        Assert.InRange(silentFor, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        Assert.InRange(idleFor, TimeSpan.FromMilliseconds(550), TimeSpan.FromSeconds(5));
        // The real peer's own link went idle too and was closed; its next calls reconnect.
        await Wait.UntilAsync(() => EchoWorksAsync(a, b.Id), "a call from the real peer after its idle link was closed");
    }

    [Fact]
    public async Task ACallStillRunningKeepsItsConnectionOpenPastTheIdleTimeout()
    {
        var options = TestNodes.FastOptions with
        {
            TcpLimits = new TcpListenerLimits { FirstFrameTimeout = TimeSpan.FromMilliseconds(200), IdleTimeout = TimeSpan.FromMilliseconds(200) },
        };
        var (nodes, a, b) = await TwoNodesAsync(options);
        await using var _ = nodes;
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var slow = await a.Transport.CallAsync(b.Id, "test/delay", BitConverter.GetBytes(1000), deadline.Token);

        Assert.Equal(RpcStatus.Ok, slow.Status);
    }
}
