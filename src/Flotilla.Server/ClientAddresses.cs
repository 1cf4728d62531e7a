using Flotilla.Kv.Protos;
using Flotilla.Runtime;

namespace Flotilla.Server;

/// <summary>Where each member of this server's group takes client calls (the <c>--members</c> list): turns the leader
/// id a replica names in a wrong-server answer into the "host:port" a gRPC client can dial at once.</summary>
public sealed class ClientAddresses(IReadOnlyDictionary<NodeId, Uri> members)
{
    /// <summary>Fills <paramref name="hint"/>'s address from its id (left empty for an id not in the list).</summary>
    public LeaderHint? Complete(LeaderHint? hint)
    {
        if (hint is not null && members.TryGetValue(new NodeId(hint.Id), out var address)) hint.Address = address.Authority;
        return hint;
    }
}
