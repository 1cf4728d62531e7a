namespace Flotilla.Runtime.Network;

/// <summary>
/// Dispatches inbound calls and messages by the service part of "service/method". Each protocol instance
/// registers under its own service name, which is how many Raft groups (or a Raft group and a KV service)
/// share one node's transport.
/// </summary>
public sealed class RpcRouter : IRpcHandler
{
    private readonly Dictionary<string, IRpcHandler> _services = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="handler"/> for every method of <paramref name="service"/>.</summary>
    public void Map(string service, IRpcHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        if (service.Contains('/')) throw new ArgumentException("a service name may not contain '/'", nameof(service));
        lock (_services)
        {
            if (!_services.TryAdd(service, handler)) throw new InvalidOperationException($"service '{service}' is already mapped");
        }
    }

    /// <summary>Removes a service; later calls to it fail as unknown.</summary>
    public bool Unmap(string service)
    {
        lock (_services) return _services.Remove(service);
    }

    public static string ServiceOf(string method)
    {
        var slash = method.IndexOf('/');
        return slash < 0 ? method : method[..slash];
    }

    private IRpcHandler? Find(string method)
    {
        lock (_services) return _services.GetValueOrDefault(ServiceOf(method));
    }

    public ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        var handler = Find(method) ?? throw new UnknownMethodException(method);
        return handler.HandleCallAsync(from, method, request, cancellationToken);
    }

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        // An unknown one-way message is dropped, as a network would: the sender cannot be told anyway.
        Find(method)?.HandleMessage(from, method, message);
    }
}

/// <summary>Raised when a call names a service nobody registered; the caller sees <see cref="RpcStatus.Failed"/>.</summary>
public sealed class UnknownMethodException(string method) : Exception($"unknown method '{method}'")
{
    public string Method { get; } = method;
}
