namespace Flotilla.Transport.Grpc;

/// <summary>What <see cref="GrpcTransport.Send"/> does when a peer's outbound queue is full.</summary>
public enum SendOverflowPolicy
{
    /// <summary>Drop the oldest queued message: fresh state (a newer heartbeat, a newer append) beats stale state.</summary>
    DropOldest,
    /// <summary>Drop the message being sent: what is already queued keeps its place.</summary>
    DropNewest,
}
