using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Bench.Transport;

/// <summary>The server-side work in every scenario: echo calls, count one-way messages.</summary>
internal sealed class EchoHandler : IRpcHandler
{
    private long _messages;

    public long Messages => Interlocked.Read(ref _messages);

    public ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(request);

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message) => Interlocked.Increment(ref _messages);
}
