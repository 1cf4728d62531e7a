namespace Flotilla.Runtime.Network;

/// <summary>
/// The inbound side: what a node serves. The runtime invokes these on the node's own
/// <see cref="Flotilla.Runtime.NodeContext"/>, one at a time, so protocol code needs no locks.
/// </summary>
public interface IRpcHandler
{
    /// <summary>Handles a request and returns the reply payload. Throwing makes the caller see
    /// <see cref="RpcStatus.Failed"/>.</summary>
    ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken);

    /// <summary>Handles a one-way message.</summary>
    void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message);
}
