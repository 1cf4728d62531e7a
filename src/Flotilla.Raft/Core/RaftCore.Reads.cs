namespace Flotilla.Raft;

// ReadIndex (§6.4 of Ongaro's thesis): linearizable reads without writing the log.
public sealed partial class RaftCore
{
    /// <summary>
    /// Asks for a read index. On the leader the answer arrives as a <see cref="ReadState"/> in a later Ready, once a
    /// quorum confirmed in a heartbeat round that this node was still leader after the request arrived, and once an
    /// entry of its term committed (so its commit index is at least every committed entry). Returns false at once when
    /// this node is not the leader or too many reads wait. <paramref name="requestId"/> must be unique and non-zero.
    /// </summary>
    public bool ReadIndex(ulong requestId)
    {
        if (requestId == 0) throw new ArgumentOutOfRangeException(nameof(requestId), "0 means 'no read' on the wire");
        if (Role != RaftRole.Leader) return false;
        if (_readOnly.Count + _readsAwaitingTermCommit.Count >= _config.MaxPendingReads) return false;
        if (_readOnly.Contains(requestId) || _readsAwaitingTermCommit.Contains(requestId)) return false;
        if (_log.TermAt(_log.Committed) != Term)
        {
            _readsAwaitingTermCommit.Add(requestId);
            return true;
        }
        QueueRead(requestId, sendRound: true);
        return true;
    }

    private void QueueRead(ulong requestId, bool sendRound)
    {
        if (_membership.IsSingleton(Id))
        {
            _readStates.Add(new ReadState(requestId, _log.Committed, true));
            return;
        }
        _readOnly.Add(requestId, _log.Committed, Id);
        // Confirm at once instead of waiting up to a heartbeat period; if a round is already in flight this read
        // joins the next one, sent as soon as the current one is confirmed (AckRead).
        if (sendRound) MaybeSendReadRound();
    }

    private void MaybeSendReadRound()
    {
        if (!_readOnly.NeedsRound) return;
        SendHeartbeats(_readOnly.StartRound());
    }

    private void AckRead(Runtime.NodeId from, ulong requestId)
    {
        if (_readOnly.Ack(from, requestId) is not { } acks || _membership.Voters.Tally(id => acks.Contains(id) ? true : null) != VoteResult.Won) return;
        _readStates.AddRange(_readOnly.Release(requestId));
        MaybeSendReadRound();
    }

    private void OnCommitAdvanced()
    {
        if (_readsAwaitingTermCommit.Count == 0 || _log.TermAt(_log.Committed) != Term) return;
        // Queue them all before sending, so they share one confirmation round.
        var waiting = _readsAwaitingTermCommit.ToList();
        _readsAwaitingTermCommit.Clear();
        foreach (var id in waiting) QueueRead(id, sendRound: false);
        MaybeSendReadRound();
    }

    private void FailPendingReads()
    {
        _readStates.AddRange(_readOnly.FailAll());
        _readStates.AddRange(_readsAwaitingTermCommit.Select(id => new ReadState(id, 0, false)));
        _readsAwaitingTermCommit.Clear();
    }
}
