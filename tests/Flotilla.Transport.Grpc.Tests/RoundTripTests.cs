using System.Buffers.Binary;
using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tests;

public sealed class RoundTripTests
{
    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task CallReturnsTheRemoteHandlersReplyOverLoopback(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var request = new byte[4096];
        Random.Shared.NextBytes(request);
        var reply = await a.Transport.CallAsync(b.Id, "test/echo", request, deadline.Token);

        Assert.Equal(RpcStatus.Ok, reply.Status);
        Assert.Equal(request, reply.Payload.ToArray());
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task ManyConcurrentCallsAllGetTheirOwnReplies(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var replies = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            a.Transport.CallAsync(b.Id, "test/int", BitConverter.GetBytes(i), deadline.Token)));

        for (var i = 0; i < replies.Length; i++)
        {
            Assert.Equal(RpcStatus.Ok, replies[i].Status);
            Assert.Equal(i + 1, BitConverter.ToInt32(replies[i].Payload.Span));
        }
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task OneWayMessagesToOnePeerArriveInTheOrderSent(PeerProtocol protocol)
    {
        const int count = 3000;
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));

        for (var i = 0; i < count; i++)
        {
            var payload = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            a.Transport.Send(b.Id, "test/seq", payload);
        }
        await Wait.UntilAsync(() => handler.Messages.Count >= count, $"{count} messages at n2");

        var received = handler.Messages.Select(m => BinaryPrimitives.ReadInt32LittleEndian(m.Payload)).ToArray();
        Assert.Equal(Enumerable.Range(0, count), received);
        Assert.All(handler.Messages, m => Assert.Equal(a.Id, m.From));
        Assert.Equal(count, a.Transport.Stats.MessagesWritten);
        Assert.Equal(0, a.Transport.Stats.DroppedQueueFull);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task SendCopiesThePayloadBeforeReturning(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));

        var buffer = new byte[] { 1, 2, 3 };
        a.Transport.Send(b.Id, "test/copy", buffer);
        buffer[0] = 99;
        await Wait.UntilAsync(() => !handler.Messages.IsEmpty, "the message at n2");

        Assert.True(handler.Messages.TryPeek(out var message));
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Payload);
    }
}
