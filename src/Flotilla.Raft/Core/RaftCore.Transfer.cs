using Flotilla.Runtime;

namespace Flotilla.Raft;

// Leadership transfer (thesis §3.10; etcd's MsgTransferLeader / MsgTimeoutNow). The leader stops taking proposals,
// brings the target's log up to its own last index, then sends TimeoutNow; the target campaigns at once with Force, so
// voters grant even inside their leader lease (CheckQuorum) and no pre-vote is held. The target's log is then at least
// as up to date as anyone's, so it wins unless another election intervenes; a transfer that has not finished within
// one election timeout is dropped by TickLeader and proposals flow again.
public sealed partial class RaftCore
{
    /// <summary>Why this node cannot hand leadership to <paramref name="target"/> (one line), or null if it can.</summary>
    public string? TransferRefusal(NodeId target)
    {
        if (Role != RaftRole.Leader) return Leader is { } leader ? $"{Id} is not the leader ({leader} is)" : $"{Id} is not the leader (none known)";
        if (target == Id) return $"{target} already leads";
        if (_membership.Learners.Contains(target) || _membership.LearnersNext.Contains(target)) return $"{target} is a learner: only a voter can lead";
        if (!_membership.IsVoter(target) || !_progress.ContainsKey(target)) return $"{target} is not a member of the group";
        return null;
    }

    /// <summary>Asks the leader to hand leadership to <paramref name="target"/>: it brings the target's log up to
    /// date, then sends TimeoutNow so the target campaigns at once. Proposals are refused meanwhile (Busy). False when
    /// <see cref="TransferRefusal"/> names a reason. A second request for another target replaces the first.</summary>
    public bool TransferLeadership(NodeId target)
    {
        if (TransferRefusal(target) is not null) return false;
        if (_leadTransferee == target) return true;
        _leadTransferee = target;
        // The target's forced campaign wins votes inside every follower's lease: no lease for the rest of this term.
        ForfeitLease();
        // The abort clock (TickLeader) restarts: the transfer gets one full election timeout.
        _electionElapsed = 0;
        var pr = _progress[target];
        if (pr.Match == _log.LastIndex) SendTimeoutNow(target);
        else SendAppend(target, sendIfEmpty: true);
        return true;
    }

    /// <summary>What a proposal meets while a transfer is under way.</summary>
    private ProposeResult BusyTransferring() =>
        ProposeResult.Busy(Leader) with { Error = $"leadership transfer to {_leadTransferee} in progress" };

    private void SendTimeoutNow(NodeId target) =>
        Send(new Message { Type = MessageType.TimeoutNow, From = Id, To = target, Term = Term });
}
