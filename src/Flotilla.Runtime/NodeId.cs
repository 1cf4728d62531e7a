namespace Flotilla.Runtime;

/// <summary>
/// Identifies one participant (server, client, worker) on a Flotilla network. A value type so a node id
/// can never be confused with a term, an index or a port.
/// </summary>
public readonly record struct NodeId(int Value) : IComparable<NodeId>
{
    public int CompareTo(NodeId other) => Value.CompareTo(other.Value);
    public override string ToString() => $"n{Value}";
}
