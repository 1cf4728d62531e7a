using Flotilla.Runtime;

namespace Flotilla.Raft;

// Log replication (§5.3), the commit rule (§5.4.2, Figure 8), pipelining with flow control, fast backup.
public sealed partial class RaftCore
{
    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                _electionElapsed = 0;
                Leader = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                Leader = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                _electionElapsed = 0;
                Leader = m.From;
                HandleSnapshotChunk(m);
                break;
            case MessageType.TimeoutNow:
                // The leader is handing over: campaign now, skipping the pre-vote and everyone's lease.
                if (IsVoter) Campaign(force: true);
                break;
            case MessageType.ReadIndexResponse:
                HandleReadIndexResponse(m);
                break;
            case MessageType.ReadIndex:
                // Asked as if we led (the asker's view is stale): say no at once so it can retry elsewhere.
                Send(new Message { Type = MessageType.ReadIndexResponse, From = Id, To = m.From, Term = Term, Context = m.Context, Reject = true });
                break;
        }
    }

    private void StepLeader(Message m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        switch (m.Type)
        {
            case MessageType.AppendResponse: HandleAppendResponse(m, pr); break;
            case MessageType.HeartbeatResponse: HandleHeartbeatResponse(m, pr); break;
            case MessageType.SnapshotResponse: HandleSnapshotResponse(m, pr); break;
            case MessageType.ReadIndex: HandleReadIndexRequest(m); break;
        }
    }

    // ------------------------------------------------------------ follower side

    private void HandleAppend(Message m)
    {
        if (m.Index < _log.Committed)
        {
            // Everything up to our commit index matches the leader already (Leader Completeness); say where we are.
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = _log.Committed });
            return;
        }
        if (_log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries) is { } lastNew)
        {
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = lastNew });
            return;
        }
        // Fast backup: name the term we hold at prevLogIndex and where that term starts in our log, or our log's
        // length if it is too short, so the leader skips a whole term per round trip instead of one entry.
        ulong conflictTerm = 0, hint;
        if (m.Index > _log.LastIndex)
        {
            hint = _log.LastIndex + 1;
        }
        else
        {
            conflictTerm = _log.TermAt(m.Index) ?? 0;
            hint = _log.FirstIndexOfTermAt(m.Index, conflictTerm);
        }
        Send(new Message
        {
            Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term,
            Index = m.Index, Reject = true, LogTerm = conflictTerm, RejectHint = hint,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        // The leader sends min(our match, its commit), which we are known to hold; clamp anyway against a stale heartbeat.
        _log.CommitTo(Math.Min(m.Commit, _log.LastIndex));
        // Index = our last index, so a leader notices a follower that lost entries it had acknowledged.
        Send(new Message { Type = MessageType.HeartbeatResponse, From = Id, To = m.From, Term = Term, Context = m.Context, Round = m.Round, Index = _log.LastIndex });
    }

    // ------------------------------------------------------------ leader side

    private void HandleAppendResponse(Message m, Progress pr)
    {
        if (m.Reject)
        {
            var nextGuess = m.RejectHint;
            if (m.LogTerm != 0 && _log.LastIndexOfTerm(m.LogTerm) is { } lastOfTerm)
                nextGuess = lastOfTerm + 1; // we hold that term too: agreement may extend to its end in our log
            if (pr.MaybeDecreaseTo(m.Index, Math.Max(nextGuess, 1)))
            {
                if (pr.State == ProgressState.Replicate) pr.BecomeProbe();
                SendAppend(m.From, sendIfEmpty: true);
            }
            return;
        }

        if (m.Index > _log.LastIndex || !pr.MaybeUpdate(m.Index)) return; // acks beyond our log are bogus
        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match >= pr.PendingSnapshot:
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeUpTo(m.Index);
                break;
        }
        // Followers learn a new commit index with the next batch.
        if (MaybeCommit()) _broadcastPending = true;
        // Keep the pipeline full while there is more to send.
        while (SendAppend(m.From, sendIfEmpty: false)) { }
        if (m.From == _leadTransferee && pr.Match == _log.LastIndex) SendTimeoutNow(m.From);
    }

    private void HandleHeartbeatResponse(Message m, Progress pr)
    {
        if (m.Index < pr.Match)
        {
            // The follower holds less than it acknowledged (wiped or lying disk): repair it from what it has.
            pr.BecomeProbe();
            pr.Match = m.Index;
            pr.Next = m.Index + 1;
        }
        pr.ProbeSent = false;
        // A full window whose acks were lost would stall forever; a heartbeat answer frees one slot to retry.
        if (pr.State == ProgressState.Replicate && pr.Inflights.Full) pr.Inflights.FreeFirst();
        // Behind: (re)send from Next. Even an empty Append helps: if earlier ones were lost, the follower's rejection
        // moves us back to probing from its real position.
        if (pr.Match < _log.LastIndex) SendAppend(m.From, sendIfEmpty: true);
        AckLeaseRound(m.From, m.Round);
        if (m.Context != 0) AckRead(m.From, m.Context);
    }

    /// <summary>
    /// Sends entries from the follower's Next, or the snapshot if they are compacted. Returns whether a message
    /// was sent. Respects flow control: nothing goes to a paused follower.
    /// </summary>
    private bool SendAppend(NodeId to, bool sendIfEmpty)
    {
        var pr = _progress[to];
        if (pr.IsPaused) return false;
        if (pr.Next > _log.LastIndex + 1)
        {
            // Cannot happen with a correct follower; never trust a peer's numbers to index our log.
            pr.BecomeProbe();
            pr.Next = _log.LastIndex + 1;
        }
        var prevIndex = pr.Next - 1;
        var prevTerm = _log.TermAt(prevIndex);
        if (prevTerm is null)
        {
            StartSnapshotTransfer(to, pr);
            return true;
        }
        var entries = _log.Slice(pr.Next, _log.LastIndex + 1, _config.MaxAppendBytes);
        if (entries.Count == 0 && !sendIfEmpty) return false;
        Send(new Message
        {
            Type = MessageType.Append, From = Id, To = to, Term = Term,
            Index = prevIndex, LogTerm = prevTerm.Value, Entries = entries, Commit = _log.Committed,
        });
        switch (pr.State)
        {
            case ProgressState.Replicate when entries.Count > 0:
                pr.Next = entries[^1].Index + 1; // optimistic: pipeline the next batch without waiting
                pr.Inflights.Add(entries[^1].Index);
                break;
            case ProgressState.Probe:
                pr.ProbeSent = true;
                break;
        }
        return true;
    }

    private void BroadcastAppend()
    {
        foreach (var peer in Peers) SendAppend(peer, sendIfEmpty: true);
    }

    private void BroadcastHeartbeat()
    {
        foreach (var (peer, pr) in _progress)
        {
            if (pr.State == ProgressState.Snapshot) RetrySnapshotChunk(peer, pr);
        }
        // Regular rounds carry the newest waiting read too: if a confirmation round was lost, this one covers it.
        SendHeartbeats(_readOnly.LastRequestId);
    }

    private void SendHeartbeats(ulong readContext)
    {
        var round = NextLeaseRound();
        foreach (var (peer, pr) in _progress)
        {
            Send(new Message
            {
                Type = MessageType.Heartbeat, From = Id, To = peer, Term = Term,
                // Never tell a follower to commit past what it is known to hold.
                Commit = Math.Min(pr.Match, _log.Committed), Context = readContext, Round = round,
            });
        }
    }

    /// <summary>Figure 2: commit the highest index stored on a quorum (on both majorities in a joint config; learners
    /// never count), but only if it is of the current term (§5.4.2).</summary>
    private bool MaybeCommit()
    {
        var candidate = _membership.Voters.CommittedIndex(_ackedIndex!);
        if (candidate <= _log.Committed || (_log.TermAt(candidate) != Term && !_config.MutationCommitEarlierTerms)) return false;
        _log.CommitTo(candidate);
        OnCommitAdvanced();
        return true;
    }
}
