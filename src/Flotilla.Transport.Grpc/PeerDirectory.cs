using System.Collections.Concurrent;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// The address book of a real cluster: where each node listens. Updatable at run time (a node moved, a
/// member was added); <see cref="GrpcTransport"/> notices a changed address on its next send to that node
/// and replaces the connection.
/// </summary>
public sealed class PeerDirectory
{
    private readonly ConcurrentDictionary<NodeId, Uri> _addresses = new();

    public PeerDirectory() { }

    public PeerDirectory(IEnumerable<KeyValuePair<NodeId, Uri>> addresses)
    {
        foreach (var (id, address) in addresses) Set(id, address);
    }

    /// <summary>Adds or replaces the address of <paramref name="id"/>: <c>http://10.0.0.7:7001</c> for gRPC peers,
    /// <c>tcp://10.0.0.7:7101</c> for framed-TCP peers.</summary>
    public void Set(NodeId id, Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || address.Scheme is not ("http" or "https" or "tcp"))
            throw new ArgumentException($"peer address '{address}' must be an absolute http://, https:// (gRPC) or tcp:// (framed TCP) URI", nameof(address));
        _addresses[id] = address;
    }

    public bool Remove(NodeId id) => _addresses.TryRemove(id, out _);

    public bool TryGet(NodeId id, out Uri address) => _addresses.TryGetValue(id, out address!);

    /// <summary>A snapshot of every known node and its address, ordered by node id.</summary>
    public IReadOnlyList<KeyValuePair<NodeId, Uri>> Snapshot() => _addresses.OrderBy(p => p.Key).ToList();
}
