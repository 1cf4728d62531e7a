using System.Collections.Concurrent;
using System.Diagnostics;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Server.Faults;

namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>The latency fault hook: only the destinations in the table wait, one-way messages keep their order, calls
/// wait once before they go out. Real time (delays of a few hundred ms), waited on with deadlines.</summary>
public class DelayingTransportTests
{
    private sealed class Recorder : ITransport
    {
        public ConcurrentQueue<(int To, string Method, byte[] Message, TimeSpan At)> Sent { get; } = new();
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        public NodeId Self => new(1);

        public Task<RpcReply> CallAsync(NodeId target, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
        {
            Sent.Enqueue((target.Value, method, request.ToArray(), Clock.Elapsed));
            return Task.FromResult(RpcReply.Ok(request));
        }

        public void Send(NodeId target, string method, ReadOnlyMemory<byte> message) =>
            Sent.Enqueue((target.Value, method, message.ToArray(), Clock.Elapsed));

        public async Task WaitForAsync(int count)
        {
            var deadline = Stopwatch.StartNew();
            while (Sent.Count < count)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"only {Sent.Count} of {count} messages sent");
                await Task.Delay(10);
            }
        }
    }

    private static LinkDelays Delays(params (int To, int Ms, int Jitter)[] table)
    {
        var delays = new LinkDelays();
        delays.Set(table.ToDictionary(t => t.To, t => new LinkDelays.Delay(t.Ms, t.Jitter)));
        return delays;
    }

    [Fact]
    public async Task OnlyTheNamedDestinationWaits()
    {
        var inner = new Recorder();
        var transport = new DelayingTransport(inner, Delays((2, 300, 0)));
        var sentAt = inner.Clock.Elapsed;
        transport.Send(new NodeId(2), "raft.1/append", new byte[] { 2 });
        transport.Send(new NodeId(3), "raft.1/append", new byte[] { 3 });
        // Node 3 has no delay: sent before Send returned.
        Assert.Equal([3], inner.Sent.Select(s => s.To));
        await inner.WaitForAsync(2);
        var slow = inner.Sent.Single(s => s.To == 2);
        Assert.True(slow.At - sentAt >= TimeSpan.FromMilliseconds(290), $"sent after {(slow.At - sentAt).TotalMilliseconds} ms");
        Assert.Equal([2], slow.Message);
    }

    [Fact]
    public async Task HeldMessagesKeepTheirOrderDespiteJitterAndAreCopied()
    {
        var inner = new Recorder();
        var transport = new DelayingTransport(inner, Delays((2, 40, 40)));
        var buffer = new byte[1];
        for (var i = 0; i < 50; i++)
        {
            buffer[0] = (byte)i;
            transport.Send(new NodeId(2), "m", buffer);
        }
        await inner.WaitForAsync(50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (byte)i), inner.Sent.Select(s => s.Message[0]));
    }

    [Fact]
    public async Task ACallToASlowDestinationWaitsOnceAndOthersDoNot()
    {
        var inner = new Recorder();
        var transport = new DelayingTransport(inner, Delays((3, 250, 0)));
        var clock = Stopwatch.StartNew();
        var fast = await transport.CallAsync(new NodeId(2), "m", new byte[] { 1 }, CancellationToken.None);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(200), $"{clock.Elapsed.TotalMilliseconds} ms");
        clock.Restart();
        var slow = await transport.CallAsync(new NodeId(3), "m", new byte[] { 1 }, CancellationToken.None);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(240), $"{clock.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(RpcStatus.Ok, fast.Status);
        Assert.Equal(RpcStatus.Ok, slow.Status);
        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        Assert.Equal(RpcStatus.Cancelled, (await transport.CallAsync(new NodeId(3), "m", new byte[] { 1 }, cancelled.Token)).Status);
    }

    [Fact]
    public void JitterStaysWithinItsBoundsAndAnEmptyTableDelaysNothing()
    {
        var delays = Delays((2, 100, 30));
        for (var i = 0; i < 200; i++) Assert.InRange(delays.Next(new NodeId(2)).TotalMilliseconds, 70, 130);
        Assert.Equal(TimeSpan.Zero, delays.Next(new NodeId(3)));
        Assert.Equal(TimeSpan.Zero, new LinkDelays().Next(new NodeId(2)));
    }
}
