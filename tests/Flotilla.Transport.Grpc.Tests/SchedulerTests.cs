using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tests;

public sealed class SchedulerTests
{
    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task InboundCallsAndMessagesRunOnTheNodesSchedulerOneAtATime(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var c = await nodes.StartAsync(3);
        RecordingHandler handler = null!;
        var b = await nodes.StartAsync(2, beforeStart: h => h.Context.Router.Map("test", handler = new RecordingHandler(h.Context)));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        // Two senders, each with 16 concurrent callers plus a one-way stream, all hitting n2 at once.
        const int messagesPerSender = 500;
        var load = new[] { a, c }.SelectMany(sender => Enumerable.Range(0, 16).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                var reply = await sender.Transport.CallAsync(b.Id, "test/int", BitConverter.GetBytes(i), deadline.Token);
                Assert.Equal(RpcStatus.Ok, reply.Status);
            }
        }))).ToList();
        foreach (var sender in new[] { a, c })
            for (var i = 0; i < messagesPerSender; i++) sender.Transport.Send(b.Id, "test/tick", BitConverter.GetBytes(i));
        await Task.WhenAll(load);
        await Wait.UntilAsync(() => handler.Messages.Count >= 2 * messagesPerSender, "every one-way message at n2");

        Assert.True(handler.Invocations >= 2 * 16 * 20 + 2 * messagesPerSender);
        Assert.Equal(0, handler.OffScheduler);
        Assert.Equal(0, handler.Overlaps);
    }

    [Theory]
    [InlineData(PeerProtocol.Grpc)]
    [InlineData(PeerProtocol.Tcp)]
    public async Task AwaitInsideAHandlerResumesOnTheNodesScheduler(PeerProtocol protocol)
    {
        await using var nodes = new TestNodes(protocol);
        var a = await nodes.StartAsync(1);
        var b = await nodes.StartAsync(2);
        var resumedOnNode = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        b.Context.Router.Map("await", new AwaitingHandler(b.Context.Scheduler, resumedOnNode));
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(b.Id, "await/x", ReadOnlyMemory<byte>.Empty, deadline.Token);

        Assert.Equal(RpcStatus.Ok, reply.Status);
        Assert.True(await resumedOnNode.Task.WaitAsync(deadline.Token));
    }

    /// <summary>Awaits real asynchrony (a thread-pool hop) and reports where the continuation ran.</summary>
    private sealed class AwaitingHandler(SynchronizationContext scheduler, TaskCompletionSource<bool> resumedOnNode) : IRpcHandler
    {
        public async ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(Runtime.NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
        {
            await Task.Delay(1, cancellationToken);
            resumedOnNode.TrySetResult(SynchronizationContext.Current == scheduler);
            return ReadOnlyMemory<byte>.Empty;
        }

        public void HandleMessage(Runtime.NodeId from, string method, ReadOnlyMemory<byte> message) { }
    }
}
