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
        CheckNoOneLackingACommittedEntryCanBeElected(nodes);
    }

    /// <summary>
    /// Leader completeness before the fact: a node whose log lacks a committed entry must not be able to collect a
    /// majority of votes by the log up-to-date rule (§5.4.1) from the live voters' current logs. Sound for correct
    /// Raft: the entry was committed through an entry of the committing leader's term T held by a majority, each of
    /// which holds a log ending at or after it in term ≥ T, while a log lacking the entry ends before it in term ≤ T
    /// (terms never decrease along a log), so that majority refuses. Counting only live voters (a down one counts as
    /// refusing; its durable log holds what it acknowledged) never raises a false alarm. Without this check a broken
    /// commit rule is noticed only once the outvoting leader is actually elected and overwrites the entry.
    /// Only checked while the voters are one plain config that every live node agrees on.
    /// </summary>
    private void CheckNoOneLackingACommittedEntryCanBeElected(List<RaftCore> nodes)
    {
        if (nodes.Count == 0 || _maxCommitted == 0) return;
        var membership = nodes[0].Membership;
        if (membership.IsJoint || nodes.Any(n => !n.Membership.Equals(membership))) return;
        var voters = nodes.Where(n => membership.IsVoter(n.Id)).ToList();
        var quorum = membership.Voters.Incoming.Quorum;
        if (voters.Count < quorum) return;
        foreach (var x in voters)
        {
            if (FirstCommittedEntryLacking(x) is not { } lacking) continue;
            var granters = voters.Count(v => v == x || IsAtLeastAsUpToDate(x, v));
            if (granters >= quorum)
                throw new RaftScenarioException($"leader completeness: {x.Id} lacks committed entry {lacking.Index}@{lacking.Term} yet its log " +
                    $"({x.LastIndex}@{x.LastTerm}) would win the votes of {granters} of {membership.Voters.Incoming.Count} voters");
        }
    }

    /// <summary>The newest committed entry if <paramref name="node"/> lacks it, else null. Enough as a witness: by log
    /// matching (checked above), a log holding the newest committed entry holds every earlier one. O(1) per node.</summary>
    private (ulong Index, ulong Term)? FirstCommittedEntryLacking(RaftCore node)
    {
        var log = node.Log;
        if (!_committed.TryGetValue(_maxCommitted, out var c) || _maxCommitted < log.FirstIndex) return null;
        return _maxCommitted > log.LastIndex || log.TermAt(_maxCommitted) != c.EntryTerm ? (_maxCommitted, c.EntryTerm) : null;
    }

    /// <summary>Whether <paramref name="candidate"/>'s log is at least as up-to-date as <paramref name="voter"/>'s (§5.4.1).</summary>
    private static bool IsAtLeastAsUpToDate(RaftCore candidate, RaftCore voter) =>
        candidate.LastTerm > voter.LastTerm || (candidate.LastTerm == voter.LastTerm && candidate.LastIndex >= voter.LastIndex);

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
