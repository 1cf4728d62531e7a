using System.Collections.Concurrent;
using Flotilla.Kv.Protos;
using Flotilla.Runtime;

namespace Flotilla.Server;

/// <summary>Where each member of this server's group takes client calls (the <c>--members</c> list, plus members
/// learned from membership changes): turns the leader id a replica names in a wrong-server answer into the
/// "host:port" a gRPC client can dial at once.</summary>
public sealed class ClientAddresses(IReadOnlyDictionary<NodeId, Uri> members)
{
    private readonly ConcurrentDictionary<NodeId, Uri> _members = new(members);

    /// <summary>Records a member's client address (a member added at runtime).</summary>
    public void Set(NodeId id, Uri address) => _members[id] = address;

    /// <summary>Every known member's client address, by id.</summary>
    public IReadOnlyDictionary<NodeId, Uri> Snapshot() => new Dictionary<NodeId, Uri>(_members);

    /// <summary>Fills <paramref name="hint"/>'s address from its id (left empty for an id not in the list).</summary>
    public LeaderHint? Complete(LeaderHint? hint)
    {
        if (hint is not null && _members.TryGetValue(new NodeId(hint.Id), out var address)) hint.Address = address.Authority;
        return hint;
    }
}
