using Flotilla.Runtime;
using Microsoft.Extensions.Logging;

namespace Flotilla.Raft;

// The driver side of membership changes: propose one and wait until it is committed and applied here, read the
// membership and the leader's per-member progress (to promote a learner once it has caught up), and hear about
// every applied change (to keep a transport's address book in step with the group).
public sealed partial class RaftNode
{
    private readonly List<PendingConfChange> _confChanges = new();

    private sealed record PendingConfChange(ulong Index, ulong Term, TaskCompletionSource<ConfChangeOutcome> Done);

    /// <summary>The membership in force on this node (the last change it applied, or its snapshot's, or the bootstrap voters).</summary>
    public MembershipConfig Membership => Core.Membership;

    /// <summary>Raised on the node's scheduler for every membership change this node applies, in log order, also when
    /// re-applying its log after a restart; and with <c>Change</c> null when it starts and when a snapshot installs a
    /// membership. Subscribe before <see cref="StartAsync"/> to see the first. A host with a real transport updates
    /// its address book here (the address of a new member is typically carried in <see cref="ConfChange.Context"/>).</summary>
    public event Action<MembershipApplied>? MembershipApplied;

    /// <summary>The leader's view of each other member's replication, ordered by id; empty unless this node leads.</summary>
    public IReadOnlyList<PeerProgress> Progress()
    {
        var core = Core;
        if (core.Role != RaftRole.Leader) return [];
        var result = new List<PeerProgress>();
        foreach (var id in core.Membership.Members)
        {
            if (core.ProgressOf(id) is { } pr) result.Add(new PeerProgress(id, pr.Match, pr.Next, pr.State, pr.IsLearner, pr.RecentActive));
        }
        return result;
    }

    /// <summary>True when this node leads and <paramref name="peer"/> holds the log up to at most
    /// <paramref name="maxLag"/> entries behind the leader's last index: the rule for promoting a learner, so that the
    /// new voter does not stall commits while it catches up.</summary>
    public bool IsCaughtUp(NodeId peer, ulong maxLag) =>
        _core is { Role: RaftRole.Leader } core && core.ProgressOf(peer) is { } pr && pr.Match + maxLag >= core.LastIndex;

    /// <summary>
    /// Proposes a membership change and completes once it is committed and applied on this node (Applied, with the
    /// membership now in force), or at once with NotLeader (and the leader's id when known), Busy, or Refused (another
    /// change is pending, or the change is invalid: the one-line reason). Lost means leadership changed and the entry
    /// was overwritten: nothing changed. Cancelling <paramref name="ct"/> completes with Unknown (the change may still
    /// take effect). A change that enters a joint config with AutoLeave completes when the joint config is entered;
    /// the leader then leaves it by itself (watch <see cref="Membership"/> or <see cref="MembershipApplied"/>).
    /// </summary>
    public Task<ConfChangeOutcome> ProposeConfChangeAsync(ConfChange change, CancellationToken ct = default)
    {
        if (_stopped) return Task.FromResult(new ConfChangeOutcome(ConfChangeStatus.NotLeader, 0, null, null, "the node is stopped"));
        var r = Core.ProposeConfChange(change);
        switch (r.Status)
        {
            case ProposeStatus.NotLeader: return Task.FromResult(new ConfChangeOutcome(ConfChangeStatus.NotLeader, 0, null, r.LeaderHint, null));
            case ProposeStatus.Busy: return Task.FromResult(new ConfChangeOutcome(ConfChangeStatus.Busy, 0, null, r.LeaderHint, null));
            case ProposeStatus.Refused: return Task.FromResult(new ConfChangeOutcome(ConfChangeStatus.Refused, 0, null, r.LeaderHint, r.Error));
        }
        var done = new TaskCompletionSource<ConfChangeOutcome>();
        _confChanges.Add(new PendingConfChange(r.Index, r.Term, done));
        if (ct.CanBeCanceled)
        {
            var registration = ct.Register(() => done.TrySetResult(Unknown(r.Index, "the caller stopped waiting")));
            done.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        Kick();
        return done.Task;
    }

    private ConfChangeOutcome Unknown(ulong index, string why) =>
        new(ConfChangeStatus.Unknown, index, _core?.Membership, _core?.Leader, why);

    private void RaiseMembershipApplied(ulong index, ConfChange? change, MembershipConfig membership)
    {
        try
        {
            MembershipApplied?.Invoke(new MembershipApplied(index, change, membership));
        }
        catch (Exception e)
        {
            // A subscriber's bug must not stop the pump: log it, like a failing handler on the transport.
            _log.LogWarning(e, "{Node} group {Group}: a MembershipApplied subscriber threw", Id, GroupId);
        }
    }

    /// <summary>A committed membership change takes effect on this node as it is applied, in log order (etcd's ApplyConfChange).</summary>
    private void ApplyConfChange(RaftCore core, LogEntry e)
    {
        var result = core.ApplyConfChange(e);
        if (result.Ok)
        {
            _log.LogInformation("{Node} group {Group}: membership at {Index} is {Membership}", Id, GroupId, e.Index, result.Config);
            ConfChange? change = null;
            try { change = ConfChangeCodec.Decode(e.Data.Span); } catch (RaftCodecException) { }
            RaiseMembershipApplied(e.Index, change, result.Config!);
        }
        else
        {
            _log.LogWarning("{Node} group {Group}: membership change at {Index} refused: {Error}", Id, GroupId, e.Index, result.Error);
        }
        CompleteConfChanges(e, result);
    }

    /// <summary>Resolves the waiter at <paramref name="e"/>'s index: the change itself (applied or refused by every
    /// node alike), or another entry that took its index (lost).</summary>
    private void CompleteConfChanges(LogEntry e, ChangeResult? result)
    {
        for (var i = _confChanges.Count - 1; i >= 0; i--)
        {
            var w = _confChanges[i];
            if (w.Index != e.Index) continue;
            _confChanges.RemoveAt(i);
            if (w.Term != e.Term || e.Kind != EntryKind.ConfChange)
                w.Done.TrySetResult(new ConfChangeOutcome(ConfChangeStatus.Lost, w.Index, _core!.Membership, _core.Leader, null));
            else if (result is { Ok: true } ok)
                w.Done.TrySetResult(new ConfChangeOutcome(ConfChangeStatus.Applied, w.Index, ok.Config, Id, null));
            else
                w.Done.TrySetResult(new ConfChangeOutcome(ConfChangeStatus.Refused, w.Index, _core!.Membership, _core.Leader, result?.Error));
        }
    }

    /// <summary>After each batch: drop waiters the caller gave up on, fail those whose entry was overwritten (a new
    /// leader truncated our log) or compacted into an installed snapshot.</summary>
    private void CheckConfChanges()
    {
        if (_confChanges.Count == 0) return;
        var core = _core!;
        for (var i = _confChanges.Count - 1; i >= 0; i--)
        {
            var w = _confChanges[i];
            if (w.Done.Task.IsCompleted)
            {
                _confChanges.RemoveAt(i);
            }
            else if (w.Index <= core.SnapshotIndex && core.AppliedIndex >= w.Index)
            {
                _confChanges.RemoveAt(i);
                w.Done.TrySetResult(Unknown(w.Index, "a snapshot replaced the log past the change; read the membership"));
            }
            else if (w.Index > core.SnapshotIndex && w.Index <= core.LastIndex && core.Log.TermAt(w.Index) != w.Term)
            {
                _confChanges.RemoveAt(i);
                w.Done.TrySetResult(new ConfChangeOutcome(ConfChangeStatus.Lost, w.Index, core.Membership, core.Leader, null));
            }
        }
    }

    private void FailConfChanges(string why)
    {
        foreach (var w in _confChanges) w.Done.TrySetResult(Unknown(w.Index, why));
        _confChanges.Clear();
    }
}
