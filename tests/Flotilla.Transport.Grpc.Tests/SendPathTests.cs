using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>
/// The one-way send path: framed TCP writes a message on the sender's thread when the link is idle and queues it
/// otherwise; these tests pin down that the two paths never reorder a sender's messages and that the inline path
/// never blocks the sender on a peer that stopped reading.
/// </summary>
public sealed class SendPathTests
{
    [Theory]
    [InlineData(PeerProtocol.Grpc, 8, 2000)]
    [InlineData(PeerProtocol.Tcp, 8, 2000)]
    // Large messages overflow the pump's 256 KiB batches, so it carries frames from one batch to the next while
    // inline writes race with it.
    [InlineData(PeerProtocol.Tcp, 100_000, 150)]
    public async Task MessagesFromManyThreadsKeepEachSendersOrder(PeerProtocol protocol, int payloadBytes, int perSender)
    {
        const int senders = 4;
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1, options: TestNodes.FastOptions with { OutboundQueueLength = senders * perSender });
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));

        // Threads start together so inline writes and queued batches interleave as much as they can.
        using var go = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, senders).Select(s => new Thread(() =>
        {
            go.Wait();
            for (var i = 0; i < perSender; i++)
            {
                var payload = new byte[payloadBytes];
                BinaryPrimitives.WriteInt32LittleEndian(payload, s);
                BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), i);
                a.Transport.Send(b.Id, "test/seq", payload);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        go.Set();
        threads.ForEach(t => t.Join());
        await Wait.UntilAsync(() => handler.Messages.Count >= senders * perSender, $"{senders * perSender} messages at n2");

        var bySender = handler.Messages
            .Select(m => (Sender: BinaryPrimitives.ReadInt32LittleEndian(m.Payload), Seq: BinaryPrimitives.ReadInt32LittleEndian(m.Payload.AsSpan(4))))
            .GroupBy(m => m.Sender)
            .ToDictionary(g => g.Key, g => g.Select(m => m.Seq).ToList());
        Assert.Equal(senders, bySender.Count);
        foreach (var (sender, seqs) in bySender) Assert.True(seqs.SequenceEqual(Enumerable.Range(0, perSender)), $"sender {sender} out of order");
        Assert.Equal(senders * perSender, a.Transport.Stats.MessagesWritten);
        Assert.Equal(0, handler.OffScheduler);
        Assert.Equal(0, handler.Overlaps);
    }

    [Fact]
    public async Task SendToAPeerThatStopsReadingNeverBlocksTheSender()
    {
        // A "peer" that accepts the connection and never reads: the kernel buffers fill, then every write would block.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = listener.AcceptSocketAsync();
        await using var nodes = new TestNodes(PeerProtocol.Tcp);
        var a = await nodes.StartAsync(1, options: TestNodes.FastOptions with { OutboundQueueLength = 100 });
        var mute = new NodeId(9);
        nodes.Directory.Set(mute, new Uri($"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}"));
        a.Transport.Send(mute, "test/seq", new byte[16]);
        using var socket = await accepted.WaitAsync(Wait.Deadline);
        await Wait.UntilAsync(() => a.Transport.Stats.MessagesWritten >= 1, "the first message written (the link is connected)");

        // 64 MiB of messages, far beyond what loopback socket buffers hold.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 4096; i++) a.Transport.Send(mute, "test/seq", new byte[16 * 1024]);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"4096 sends took {clock.Elapsed}");
        // What did not fit the socket or the queue was dropped, not buffered without limit.
        Assert.True(a.Transport.Stats.DroppedQueueFull > 0, "the bounded queue dropped the overflow");
    }
}
