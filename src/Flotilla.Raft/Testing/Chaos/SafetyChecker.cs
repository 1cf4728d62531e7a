using Flotilla.Runtime;

namespace Flotilla.Raft.Testing.Chaos;

/// <summary>
/// Raft's safety properties (Figure 3 of the paper), checked against the live state of every node after each chaos
/// event. It remembers what it has seen across the whole run (leaders per term, entries per (index, term), commits,
/// applied state per index), so a violation is caught even when the nodes involved are no longer up together.
/// </summary>
public sealed class SafetyChecker
{
    private readonly Dictionary<ulong, NodeId> _leaderOfTerm = new();
    // (index, term) -> (content fingerprint, term of the entry before it): unique per pair ⇔ Log Matching.
    private readonly Dictionary<(ulong Index, ulong Term), (ulong Content, ulong PrevTerm)> _entries = new();
    // index -> (term of the committed entry, lowest term of a node seen holding it committed).
    private readonly Dictionary<ulong, (ulong EntryTerm, ulong SeenInTerm)> _committed = new();
    private readonly Dictionary<ulong, ulong> _appliedStateAt = new();
    private ulong _maxCommitted;

    public void ObserveApplied(NodeId node, ulong index, ulong stateHash)
    {
        if (!_appliedStateAt.TryAdd(index, stateHash) && _appliedStateAt[index] != stateHash)
            throw new RaftScenarioException($"state machine safety: {node} has state {stateHash:x} after applying index {index}, another node had {_appliedStateAt[index]:x}");
    }

    public void Check(IEnumerable<RaftCore> liveNodes)
    {
        var nodes = liveNodes.ToList();
        foreach (var n in nodes) CheckLog(n);
        foreach (var n in nodes) RecordCommits(n);
        foreach (var n in nodes.Where(n => n.Role == RaftRole.Leader))
        {
            if (!_leaderOfTerm.TryAdd(n.Term, n.Id) && _leaderOfTerm[n.Term] != n.Id)
                throw new RaftScenarioException($"election safety: {_leaderOfTerm[n.Term]} and {n.Id} both led term {n.Term}");
            CheckLeaderCompleteness(n);
        }
    }

    private void CheckLog(RaftCore n)
    {
        var log = n.Log;
        var prevTerm = log.SnapshotTerm;
        for (var i = log.FirstIndex; i <= log.LastIndex; i++)
        {
            var e = log.EntryAt(i);
            var seen = (Fingerprint(e), prevTerm);
            if (!_entries.TryAdd((i, e.Term), seen) && _entries[(i, e.Term)] != seen)
                throw new RaftScenarioException($"log matching: {n.Id} holds {e} (previous term {prevTerm}) unlike another log at {i}@{e.Term}");
            prevTerm = e.Term;
        }
    }

    private void RecordCommits(RaftCore n)
    {
        var log = n.Log;
        for (var i = log.FirstIndex; i <= log.Committed; i++)
        {
            var term = log.EntryAt(i).Term;
            if (_committed.TryGetValue(i, out var known))
            {
                if (known.EntryTerm != term)
                    throw new RaftScenarioException($"committed entries differ at {i}: {n.Id} committed term {term}, before it term {known.EntryTerm}");
                if (n.Term < known.SeenInTerm) _committed[i] = (term, n.Term);
            }
            else
            {
                _committed[i] = (term, n.Term);
            }
        }
        _maxCommitted = Math.Max(_maxCommitted, log.Committed);
    }

    /// <summary>A leader of a term later than the one an entry was committed in holds that entry (§5.4). The commit's
    /// term is bounded above by the lowest term of a node seen holding it committed, so the check never misfires.</summary>
    private void CheckLeaderCompleteness(RaftCore leader)
    {
        var log = leader.Log;
        for (var i = log.FirstIndex; i <= _maxCommitted; i++)
        {
            if (!_committed.TryGetValue(i, out var c) || leader.Term <= c.SeenInTerm) continue;
            if (log.TermAt(i) != c.EntryTerm)
                throw new RaftScenarioException($"leader completeness: {leader.Id}, leader of term {leader.Term}, lacks entry {i}@{c.EntryTerm} committed by term {c.SeenInTerm}");
        }
    }

    public static ulong Fingerprint(LogEntry e) => Mix(Mix(14695981039346656037UL, (byte)e.Kind), e.Data.Span);

    public static ulong Mix(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    public static ulong Mix(ulong hash, byte b) => (hash ^ b) * 1099511628211UL;
}
