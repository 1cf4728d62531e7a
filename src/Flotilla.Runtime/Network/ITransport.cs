namespace Flotilla.Runtime.Network;

/// <summary>
/// The outbound side of one node's network interface. Payloads are bytes so that the simulated and the
/// real network run exactly the same encoding code, and so a sender can never share a mutable object
/// with a receiver.
/// <para>Method names are "service/method" (e.g. "raft.7/append"); <see cref="RpcRouter"/> dispatches on the
/// service part, so many protocol instances (many Raft groups) can share one node and one transport.</para>
/// </summary>
public interface ITransport
{
    /// <summary>The node this transport sends from.</summary>
    NodeId Self { get; }

    /// <summary>
    /// Sends a request and waits for its reply. Never throws for network trouble and never hangs past
    /// <paramref name="cancellationToken"/>: a lost request or reply ends as <see cref="RpcStatus.Timeout"/> or
    /// <see cref="RpcStatus.Unavailable"/>. Callers should always pass a token with a deadline.
    /// </summary>
    Task<RpcReply> CallAsync(NodeId target, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a one-way message, best effort: it may be dropped, delayed, duplicated by a retrying sender,
    /// or reordered. Used by protocols whose replies are messages of their own (Raft). Never blocks.
    /// The transport copies <paramref name="message"/> before returning.
    /// </summary>
    void Send(NodeId target, string method, ReadOnlyMemory<byte> message);
}
