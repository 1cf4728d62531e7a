using Flotilla.Runtime;

namespace Flotilla.Raft;

// Elections (§5.2), PreVote and CheckQuorum (§9.6 of Ongaro's thesis); the forced campaign of a leadership transfer.
public sealed partial class RaftCore
{
    private void TickElection()
    {
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTicks) _voteHoldAfterStart = false;
        if (IsVoter && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Campaign(force: false);
        }
    }


    private void TickLeader()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                var active = _membership.Voters.Tally(id => id == Id || (_progress.TryGetValue(id, out var p) && p.RecentActive));
                foreach (var p in _progress.Values) p.RecentActive = false;
                if (active != VoteResult.Won)
                {
                    // Cut off from a quorum: stop acting as leader so clients go elsewhere (and reads stay linearizable).
                    BecomeFollower(Term, null);
                    return;
                }
            }
            // A transfer that did not finish within an election timeout is abandoned so proposals flow again.
            _leadTransferee = null;
        }
        if (_heartbeatElapsed >= _config.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }
    }

    /// <summary>Starts an election now (tests use this; normally ticks do). <paramref name="force"/> is leadership
    /// transfer: skip the pre-vote and ask voters to ignore their leader lease.</summary>
    public void Campaign(bool force) => StartCampaign(preVote: _config.PreVote && !force, force);

    private void StartCampaign(bool preVote, bool force)
    {
        if (Role == RaftRole.Leader || !IsVoter || HasUnappliedConfChanges()) return;
        ulong voteTerm;
        if (preVote)
        {
            BecomePreCandidate();
            voteTerm = Term + 1;
        }
        else
        {
            BecomeCandidate();
            voteTerm = Term;
        }
        if (RecordVote(Id, granted: true) == VoteResult.Won)
        {
            if (preVote) StartCampaign(preVote: false, force);
            else BecomeLeader();
            return;
        }
        foreach (var peer in Peers)
        {
            Send(new Message
            {
                Type = preVote ? MessageType.PreVote : MessageType.Vote,
                From = Id, To = peer, Term = voteTerm,
                Index = _log.LastIndex, LogTerm = _log.LastTerm, Force = force,
            });
        }
    }

    private void HandleVoteRequest(Message m)
    {
        var preVote = m.Type == MessageType.PreVote;
        // One vote per term (Figure 2); a pre-vote for a higher term binds nothing and may always be granted.
        var canVote = _votedFor == m.From || (_votedFor is null && Leader is null) || (preVote && m.Term > Term);
        var responseType = preVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        if (canVote && _log.IsUpToDate(m.Index, m.LogTerm))
        {
            Send(new Message { Type = responseType, From = Id, To = m.From, Term = m.Term });
            if (!preVote)
            {
                _electionElapsed = 0;
                _votedFor = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, From = Id, To = m.From, Term = Term, Reject = true });
        }
    }

    /// <summary>Records a vote and counts the voters' answers (both majorities in a joint config; anyone else's
    /// answer is ignored).</summary>
    private VoteResult RecordVote(NodeId from, bool granted)
    {
        _votes.TryAdd(from, granted);
        return _membership.Voters.Tally(id => _votes.TryGetValue(id, out var v) ? v : null);
    }

    private void StepCandidate(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot:
                // Another node won this term (§5.2): follow it.
                BecomeFollower(m.Term, m.From);
                StepFollower(m);
                break;
            case MessageType.PreVoteResponse when Role == RaftRole.PreCandidate:
            case MessageType.VoteResponse when Role == RaftRole.Candidate:
                switch (RecordVote(m.From, !m.Reject))
                {
                    case VoteResult.Won when Role == RaftRole.PreCandidate: StartCampaign(preVote: false, force: false); break;
                    case VoteResult.Won: BecomeLeader(); break;
                    case VoteResult.Lost: BecomeFollower(Term, null); break;
                }
                break;
        }
    }

    // Leadership transfer (TransferLeadership, TimeoutNow): RaftCore.Transfer.cs.
}
