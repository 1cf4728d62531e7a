using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>
/// Leader-side ReadIndex requests waiting for a quorum to confirm leadership (etcd's read_only.go, "safe" mode).
/// A request records the commit index at arrival; a heartbeat round tagged with the newest request's id confirms
/// it and every request queued before it, because the round was sent after all of them arrived.
/// <para>Confirmation rounds are coalesced as in etcd: at most one is in flight (<see cref="RoundInFlight"/>);
/// requests that arrive meanwhile wait for it to be confirmed and then go out together in the next round, so a
/// burst of reads costs one round per round-trip time, not one per read.</para>
/// </summary>
public sealed class ReadOnlyQueue
{
    private sealed record Pending(ulong RequestId, ulong Index, HashSet<NodeId> Acks);

    private readonly List<Pending> _queue = new();
    private readonly Dictionary<ulong, Pending> _byId = new();

    public int Count => _queue.Count;

    /// <summary>The request id to tag the next heartbeat round with (0 when nothing waits).</summary>
    public ulong LastRequestId => _queue.Count == 0 ? 0 : _queue[^1].RequestId;

    public bool Contains(ulong requestId) => _byId.ContainsKey(requestId);

    /// <summary>The request id tagging the confirmation round sent and not yet confirmed (0 when none).</summary>
    public ulong RoundInFlight { get; private set; }

    /// <summary>True when requests wait that no round in flight covers: a new round should go out now.</summary>
    public bool NeedsRound => RoundInFlight == 0 && _queue.Count > 0;

    /// <summary>Records that a confirmation round tagged with <see cref="LastRequestId"/> was sent.</summary>
    public ulong StartRound() => RoundInFlight = LastRequestId;

    public void Add(ulong requestId, ulong index, NodeId self)
    {
        var p = new Pending(requestId, index, [self]);
        _queue.Add(p);
        _byId.Add(requestId, p);
    }

    /// <summary>Records <paramref name="from"/>'s ack; returns who acknowledged that request so far (null if unknown),
    /// for the caller to count against its quorum.</summary>
    public IReadOnlySet<NodeId>? Ack(NodeId from, ulong requestId)
    {
        if (!_byId.TryGetValue(requestId, out var p)) return null;
        p.Acks.Add(from);
        return p.Acks;
    }

    /// <summary>Removes and returns every request up to and including <paramref name="requestId"/>.</summary>
    public List<ReadState> Release(ulong requestId)
    {
        var released = new List<ReadState>();
        var at = _queue.FindIndex(p => p.RequestId == requestId);
        if (at < 0) return released;
        foreach (var p in _queue.Take(at + 1))
        {
            released.Add(new ReadState(p.RequestId, p.Index, true));
            _byId.Remove(p.RequestId);
        }
        _queue.RemoveRange(0, at + 1);
        // A regular heartbeat tagged with a newer id may confirm the round in flight too (or it was lost).
        if (!_byId.ContainsKey(RoundInFlight)) RoundInFlight = 0;
        return released;
    }

    /// <summary>Leadership lost: every waiting request fails.</summary>
    public List<ReadState> FailAll()
    {
        var failed = _queue.Select(p => new ReadState(p.RequestId, 0, false)).ToList();
        _queue.Clear();
        _byId.Clear();
        RoundInFlight = 0;
        return failed;
    }
}
