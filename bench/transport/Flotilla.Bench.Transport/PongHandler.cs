using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Bench.Transport;

/// <summary>One-way ping-pong over GrpcTransport: "ping" messages are answered with a "pong" message, as a Raft
/// follower answers an append. On the pinging node it completes the waiting round trip.</summary>
internal sealed class PongHandler(ITransport transport) : IRpcHandler
{
    private TaskCompletionSource? _waiting;

    /// <summary>Arms the next round trip; the caller sends the ping after this.</summary>
    public Task Expect()
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiting, waiting);
        return waiting.Task;
    }

    public ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        throw new UnknownMethodException(method);

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        if (method.EndsWith("/ping", StringComparison.Ordinal)) transport.Send(from, "pong/pong", message);
        else Volatile.Read(ref _waiting)?.TrySetResult();
    }
}
