using Flotilla.Runtime;

namespace Flotilla.Raft;

// Membership changes (Raft thesis §4.3, etcd's ConfChangeV2): a change is an entry of kind ConfChange; it takes
// effect when the driver applies it after commit (ApplyConfChange), never at append time. The leader allows one
// change in flight (PendingConfIndex) and leaves a joint config by itself when the config says AutoLeave.
public sealed partial class RaftCore
{
    private MembershipConfig _membership = MembershipConfig.FromVoters([]);
    // The configs applied since the snapshot, oldest first, each with the index it took effect at: a snapshot taken
    // at an index below the newest change must carry the membership of that index.
    private readonly List<(ulong Index, MembershipConfig Config)> _membershipHistory = new();
    private ulong _pendingConfIndex;
    private Func<NodeId, ulong>? _ackedIndex;

    /// <summary>The membership in force: the one applied last (or restored from the snapshot, or the bootstrap voters).</summary>
    public MembershipConfig Membership => _membership;

    /// <summary>The index of the last membership change this leader appended (or its last index when it was elected):
    /// no new change is accepted until it is applied.</summary>
    public ulong PendingConfIndex => _pendingConfIndex;

    /// <summary>
    /// Proposes a membership change. Accepted means appended like any entry; it takes effect on each node when that
    /// node applies it (<see cref="ApplyConfChange"/>). Refused, with a one-line <c>Error</c>, when another change is
    /// not yet applied or the change is invalid against the current membership (see <see cref="MembershipChanger"/>).
    /// </summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        if (Role != RaftRole.Leader) return ProposeResult.NotLeader(Leader);
        if (_leadTransferee is not null) return ProposeResult.Busy(Leader);
        if (_pendingConfIndex > _log.Applied)
            return ProposeResult.Refused(Leader, $"another membership change is pending (index {_pendingConfIndex} is not applied yet)");
        // Every earlier change is applied, so the current membership is exactly what this entry will apply to.
        var next = MembershipChanger.Apply(_membership, change);
        if (!next.Ok) return ProposeResult.Refused(Leader, next.Error!);
        if (_log.LastIndex - _log.Committed >= (ulong)_config.MaxUncommittedEntries) return ProposeResult.Busy(Leader);
        var entry = new LogEntry(_log.LastIndex + 1, Term, EntryKind.ConfChange, ConfChangeCodec.Encode(change));
        AppendToOwnLog(entry);
        _pendingConfIndex = entry.Index;
        return ProposeResult.Accepted(entry.Index, entry.Term);
    }

    /// <summary>
    /// The driver applies a committed <see cref="EntryKind.ConfChange"/> entry, in log order, before it calls
    /// <see cref="Advance"/> for the Ready that carried it. Returns the new membership, or the reason it was refused
    /// (then nothing changed: every node applies the same entries to the same config, so all refuse alike).
    /// </summary>
    public ChangeResult ApplyConfChange(LogEntry entry)
    {
        if (entry.Kind != EntryKind.ConfChange) throw new ArgumentException($"{entry} is not a membership change", nameof(entry));
        if (entry.Index > _log.Committed) throw new InvalidOperationException($"membership change {entry} applied before it committed ({_log.Committed})");
        if (entry.Index <= _membershipHistory[^1].Index) return ChangeResult.Refused($"membership change at {entry.Index} is already applied");
        ChangeResult result;
        try
        {
            result = MembershipChanger.Apply(_membership, ConfChangeCodec.Decode(entry.Data.Span));
        }
        catch (RaftCodecException e)
        {
            result = ChangeResult.Refused($"membership change at {entry.Index} is malformed: {e.Message}");
        }
        if (result.Config is { } next) SwitchMembership(next, entry.Index);
        return result;
    }

    /// <summary>Starts using <paramref name="next"/>: progress for new members, none for departed ones, and the role
    /// consequences (a removed or demoted leader steps down: its removal is committed, since it is being applied).</summary>
    private void SwitchMembership(MembershipConfig next, ulong index, bool resetHistory = false)
    {
        SetMembership(next, index, resetHistory);
        if (!IsVoter)
        {
            if (Role != RaftRole.Follower) BecomeFollower(Term, null);
            return;
        }
        if (Role != RaftRole.Leader) return;
        // The quorum changed: the commit index may move; new members need their first (probing) Append.
        MaybeCommit();
        _broadcastPending = true;
        if (_leadTransferee is { } t && !_membership.IsVoter(t)) _leadTransferee = null;
    }

    private void SetMembership(MembershipConfig config, ulong index, bool resetHistory = false)
    {
        _membership = config;
        if (resetHistory) _membershipHistory.Clear();
        _membershipHistory.Add((index, config));
        foreach (var id in config.Members)
        {
            if (id == Id || _progress.ContainsKey(id)) continue;
            // Probe from our end; counted as active so CheckQuorum does not depose us before it answers (etcd too).
            _progress[id] = new Progress(_config.MaxInflightMessages) { Next = _log.LastIndex + 1, RecentActive = true };
        }
        foreach (var id in _progress.Keys.Where(id => !config.Contains(id)).ToList()) _progress.Remove(id);
        foreach (var (id, pr) in _progress) pr.IsLearner = config.IsLearner(id);
    }

    /// <summary>The membership in force right after applying <paramref name="index"/> (at most the applied index).</summary>
    private MembershipConfig MembershipAt(ulong index)
    {
        for (var i = _membershipHistory.Count - 1; i > 0; i--)
        {
            if (_membershipHistory[i].Index <= index) return _membershipHistory[i].Config;
        }
        return _membershipHistory[0].Config;
    }

    /// <summary>Forgets the configs a snapshot at <paramref name="index"/> made unreachable (keeps the one in force there).</summary>
    private void TrimMembershipHistory(ulong index)
    {
        var keepFrom = _membershipHistory.FindLastIndex(h => h.Index <= index);
        if (keepFrom > 0) _membershipHistory.RemoveRange(0, keepFrom);
    }

    /// <summary>
    /// etcd's hasUnappliedConfChanges: a node must not campaign while a committed membership change waits to be
    /// applied, or it would count votes with a config the group has left (after a restart its membership is the
    /// snapshot's until the log is re-applied). Only scans committed-but-unapplied entries, and only when campaigning.
    /// </summary>
    private bool HasUnappliedConfChanges()
    {
        for (var i = _log.Applied + 1; i <= _log.Committed; i++)
        {
            if (_log.EntryAt(i).Kind == EntryKind.ConfChange) return true;
        }
        return false;
    }

    /// <summary>A leader in a joint config marked AutoLeave proposes the empty change once the joint entry is applied
    /// (checked after every applied batch, so a refusal, e.g. during a transfer, is retried).</summary>
    private void MaybeAutoLeave()
    {
        if (Role == RaftRole.Leader && _membership.AutoLeave && _log.Applied >= _pendingConfIndex)
            ProposeConfChange(ConfChange.LeaveJoint);
    }

    /// <summary>The index each voter is known to hold: the leader's own durable log, a follower's match.</summary>
    private ulong AckedIndex(NodeId id) =>
        id == Id ? _log.StableIndex : _progress.TryGetValue(id, out var pr) ? pr.Match : 0;
}
