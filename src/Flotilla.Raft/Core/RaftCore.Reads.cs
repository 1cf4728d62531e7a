using Flotilla.Runtime;

namespace Flotilla.Raft;

// ReadIndex (§6.4 of Ongaro's thesis): linearizable reads without writing the log. Three ways to answer, see
// docs/raft.md "Reads": a confirmation heartbeat round on the leader (safe, the default), the leader's lease
// (RaftCore.Lease.cs, no round while it holds), and followers asking the leader for its read index (FollowerReads).
public sealed partial class RaftCore
{
    /// <summary>Ids the leader gives reads forwarded by followers (top bit set, so they never meet a driver's id).</summary>
    private const ulong RemoteReadBit = 1UL << 63;

    private readonly Dictionary<ulong, (NodeId From, ulong RequestId)> _remoteReads = new();
    /// <summary>Follower: reads forwarded to the leader, with the tick they were sent at (answers can be lost).</summary>
    private readonly Dictionary<ulong, long> _forwardedReads = new();
    private ulong _remoteReadSeq;

    /// <summary>Reads this leader answered from its lease, with no round (counted for tests and metrics).</summary>
    public long LeaseReadsServed { get; private set; }

    /// <summary>Reads this follower got a read index for from the leader.</summary>
    public long ForwardedReadsServed { get; private set; }

    /// <summary>
    /// Asks for a read index. The answer arrives as a <see cref="ReadState"/> in a later Ready. On the leader: once a
    /// quorum confirmed in a heartbeat round that this node was still leader after the request arrived (or at once
    /// while it holds a lease, <see cref="RaftConfig.LeaseReads"/>), and once an entry of its term committed (so its
    /// commit index is at least every committed entry). On a follower with <see cref="RaftConfig.FollowerReads"/>:
    /// when the leader answers with its read index. Returns false at once when this node cannot ask (not the leader,
    /// or a follower without follower reads or without a known leader) or too many reads wait.
    /// <paramref name="requestId"/> must be unique, non-zero and below 2^63.
    /// </summary>
    public bool ReadIndex(ulong requestId)
    {
        if (requestId == 0) throw new ArgumentOutOfRangeException(nameof(requestId), "0 means 'no read' on the wire");
        if (requestId >= RemoteReadBit) throw new ArgumentOutOfRangeException(nameof(requestId), "ids from 2^63 up are the leader's for forwarded reads");
        if (Role != RaftRole.Leader) return ForwardRead(requestId);
        if (_readOnly.Contains(requestId) || _readsAwaitingTermCommit.Contains(requestId)) return false;
        return LeaderRead(requestId);
    }

    private bool LeaderRead(ulong requestId)
    {
        if (_readOnly.Count + _readsAwaitingTermCommit.Count >= _config.MaxPendingReads) return false;
        if (_log.TermAt(_log.Committed) != Term)
        {
            _readsAwaitingTermCommit.Add(requestId);
            return true;
        }
        QueueRead(requestId, sendRound: true);
        return true;
    }

    private bool ForwardRead(ulong requestId)
    {
        if (!_config.FollowerReads || Role != RaftRole.Follower || Leader is not { } leader) return false;
        if (_forwardedReads.Count >= _config.MaxPendingReads || !_forwardedReads.TryAdd(requestId, _tickCount)) return false;
        Send(new Message { Type = MessageType.ReadIndex, From = Id, To = leader, Term = Term, Context = requestId });
        return true;
    }

    /// <summary>Leader: a follower asks for a read index. It is served like a local read under an id of the leader's
    /// own, and answered with a ReadIndexResponse when confirmed.</summary>
    private void HandleReadIndexRequest(Message m)
    {
        var id = RemoteReadBit | ++_remoteReadSeq;
        _remoteReads[id] = (m.From, m.Context);
        if (!LeaderRead(id))
        {
            _remoteReads.Remove(id);
            Send(new Message { Type = MessageType.ReadIndexResponse, From = Id, To = m.From, Term = Term, Context = m.Context, Reject = true });
        }
    }

    /// <summary>Follower: the leader's read index for one of our forwarded reads.</summary>
    private void HandleReadIndexResponse(Message m)
    {
        if (!_forwardedReads.Remove(m.Context, out _)) return;
        if (!m.Reject) ForwardedReadsServed++;
        _readStates.Add(new ReadState(m.Context, m.Reject ? 0 : m.Index, !m.Reject));
    }

    private void QueueRead(ulong requestId, bool sendRound)
    {
        if (_membership.IsSingleton(Id) || HasReadLease)
        {
            if (!_membership.IsSingleton(Id)) LeaseReadsServed++;
            // Alone, or inside the lease: no other leader can exist now, so the commit index is the read index.
            EmitRead(new ReadState(requestId, _log.Committed, true));
            return;
        }
        _readOnly.Add(requestId, _log.Committed, Id);
        // Confirm at once instead of waiting up to a heartbeat period; if a round is already in flight this read
        // joins the next one, sent as soon as the current one is confirmed (AckRead).
        if (sendRound) MaybeSendReadRound();
    }

    /// <summary>Hands a read's outcome to the driver, or, for a read a follower forwarded, answers that follower.</summary>
    private void EmitRead(ReadState read)
    {
        if (!_remoteReads.Remove(read.RequestId, out var remote))
        {
            _readStates.Add(read);
            return;
        }
        // Lost leadership: stay silent (our term may have moved on); the follower fails the read when it sees the
        // new term or leader, or the driver's deadline does.
        if (Role != RaftRole.Leader) return;
        Send(new Message
        {
            Type = MessageType.ReadIndexResponse, From = Id, To = remote.From, Term = Term,
            Context = remote.RequestId, Index = read.Index, Reject = !read.Ok,
        });
    }

    private void MaybeSendReadRound()
    {
        if (!_readOnly.NeedsRound) return;
        SendHeartbeats(_readOnly.StartRound());
    }

    private void AckRead(NodeId from, ulong requestId)
    {
        if (_readOnly.Ack(from, requestId) is not { } acks || _membership.Voters.Tally(id => acks.Contains(id) ? true : null) != VoteResult.Won) return;
        foreach (var read in _readOnly.Release(requestId)) EmitRead(read);
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
        var failed = _readOnly.FailAll().Concat(_readsAwaitingTermCommit.Select(id => new ReadState(id, 0, false)))
            .Concat(_forwardedReads.Keys.Select(id => new ReadState(id, 0, false)));
        // Reads followers forwarded are dropped silently: this runs while the role changes, and the follower fails
        // them itself when it sees the new term or leader (or when they expire, ExpireForwardedReads).
        _readStates.AddRange(failed.Where(r => !_remoteReads.ContainsKey(r.RequestId)));
        _readsAwaitingTermCommit.Clear();
        _forwardedReads.Clear();
        _remoteReads.Clear();
    }

    /// <summary>Follower: a forwarded read unanswered for two election timeouts fails (its request or answer was lost).</summary>
    private void ExpireForwardedReads()
    {
        if (_forwardedReads.Count == 0) return;
        foreach (var (id, sentAt) in _forwardedReads.Where(kv => _tickCount - kv.Value >= 2L * _config.ElectionTicks).ToList())
        {
            _forwardedReads.Remove(id);
            _readStates.Add(new ReadState(id, 0, false));
        }
    }
}
