namespace Flotilla.Runtime.Network;

public static class TransportExtensions
{
    /// <summary>
    /// Calls with a deadline measured on <paramref name="time"/> (virtual time in simulation), so a lost
    /// message costs at most <paramref name="timeout"/>.
    /// </summary>
    public static async Task<RpcReply> CallAsync(this ITransport transport, NodeId target, string method,
        ReadOnlyMemory<byte> request, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken = default)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        var reply = await transport.CallAsync(target, method, request, linked.Token);
        if (reply.Status == RpcStatus.Cancelled && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            return RpcReply.Fail(RpcStatus.Timeout, $"no reply from {target} within {timeout.TotalMilliseconds:0} ms");
        return reply;
    }
}
