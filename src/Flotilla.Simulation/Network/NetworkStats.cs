using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Simulation.Network;

/// <summary>Counts of traffic: calls (request/response), one-way messages, and payload bytes (requests, replies, messages).</summary>
public readonly record struct TrafficCount(long Calls, long Messages, long Bytes)
{
    /// <summary>Calls plus messages: what a "RPC count" budget usually means.</summary>
    public long Rpcs => Calls + Messages;

    public static TrafficCount operator +(TrafficCount a, TrafficCount b) => new(a.Calls + b.Calls, a.Messages + b.Messages, a.Bytes + b.Bytes);
    public static TrafficCount operator -(TrafficCount a, TrafficCount b) => new(a.Calls - b.Calls, a.Messages - b.Messages, a.Bytes - b.Bytes);
}

/// <summary>
/// Per-sender and per-method traffic counters, counted when a node sends (whether or not the network then delivers),
/// so tests can assert RPC and byte budgets.
/// </summary>
public sealed class NetworkStats
{
    private readonly Dictionary<(NodeId Node, string Method), TrafficCount> _counts = new();

    internal void CountCall(NodeId from, string method, int bytes) => Add(from, method, new TrafficCount(1, 0, bytes));
    internal void CountReply(NodeId from, string method, int bytes) => Add(from, method, new TrafficCount(0, 0, bytes));
    internal void CountMessage(NodeId from, string method, int bytes) => Add(from, method, new TrafficCount(0, 1, bytes));

    private void Add(NodeId node, string method, TrafficCount delta) =>
        _counts[(node, method)] = _counts.GetValueOrDefault((node, method)) + delta;

    /// <summary>Everything sent by anyone.</summary>
    public TrafficCount Total => Sum(_ => true);

    /// <summary>Everything <paramref name="node"/> sent (requests, the replies it served, messages).</summary>
    public TrafficCount SentBy(NodeId node) => Sum(k => k.Node == node);

    /// <summary>Traffic of one exact method ("service/method").</summary>
    public TrafficCount ForMethod(string method) => Sum(k => k.Method == method);

    /// <summary>Traffic of every method of a service (the part before '/').</summary>
    public TrafficCount ForService(string service) => Sum(k => RpcRouter.ServiceOf(k.Method) == service);

    /// <summary>Traffic whose method satisfies <paramref name="predicate"/>.</summary>
    public TrafficCount Where(Func<string, bool> predicate) => Sum(k => predicate(k.Method));

    public IReadOnlyDictionary<string, TrafficCount> ByMethod() =>
        _counts.GroupBy(kv => kv.Key.Method).ToDictionary(g => g.Key, g => g.Aggregate(default(TrafficCount), (a, kv) => a + kv.Value));

    private TrafficCount Sum(Func<(NodeId Node, string Method), bool> filter) =>
        _counts.Where(kv => filter(kv.Key)).Aggregate(default(TrafficCount), (a, kv) => a + kv.Value);
}
