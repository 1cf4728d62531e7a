using Flotilla.Runtime;

namespace Flotilla.Raft;

// InstallSnapshot (§7), sent in chunks with offset/done. The core never holds snapshot bytes: a leader's chunks name an
// offset and a length that the driver reads from storage (SnapshotChunks.FillAsync), and a follower hands the chunks it
// receives to the driver (Ready.SnapshotChunks), which writes them to storage as they come. So a snapshot larger than
// memory crosses the network from disk to disk, and the leader keeps a window of chunks in flight (flow control: at most
// SnapshotChunksInFlight unacknowledged chunks per follower).
public sealed partial class RaftCore
{
    /// <summary>A snapshot being received: chunks must arrive in order; anything else is answered with our offset.</summary>
    private sealed class IncomingSnapshot(SnapshotMeta meta)
    {
        public SnapshotMeta Meta { get; } = meta;
        public ulong Held { get; set; }
    }

    /// <summary>
    /// The application snapshotted its state up to <paramref name="index"/> (at most what it applied): remember where
    /// the snapshot sits (to send it to followers that fall behind, from storage) and drop the log entries it covers.
    /// Returns the snapshot for the driver to persist, or null if it is not newer than the one we have.
    /// </summary>
    public RaftSnapshot? Compact(ulong index, ReadOnlyMemory<byte> data)
    {
        if (index <= _log.SnapshotIndex) return null;
        var meta = SnapshotMetaAt(index);
        CompactTo(meta, data.Length);
        return new RaftSnapshot(meta, data);
    }

    /// <summary>Where a snapshot of the state applied up to <paramref name="index"/> sits: its term and the membership
    /// in force there. For a service that writes its snapshot as a stream before the log is compacted
    /// (<see cref="CompactTo"/> once storage holds it).</summary>
    public SnapshotMeta SnapshotMetaAt(ulong index)
    {
        if (index <= _log.SnapshotIndex) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is compacted already (snapshot {_log.SnapshotIndex})");
        if (index > _log.Applied) throw new ArgumentOutOfRangeException(nameof(index), $"snapshot at {index} but only {_log.Applied} applied");
        return new SnapshotMeta(index, _log.TermAt(index)!.Value, MembershipAt(index));
    }

    /// <summary>Storage now holds the snapshot <paramref name="meta"/> (of <paramref name="bytes"/> bytes of data, taken
    /// from <see cref="SnapshotMetaAt"/>): drop the log entries it covers and send it to followers that fall behind.
    /// False if a newer snapshot (one received from the leader meanwhile) already covers it.</summary>
    public bool CompactTo(SnapshotMeta meta, long bytes)
    {
        if (meta.Index <= _log.SnapshotIndex) return false;
        if (meta.Index > _log.Applied || _log.TermAt(meta.Index) != meta.Term)
            throw new ArgumentException($"snapshot {meta.Index}@{meta.Term} does not match the applied log (applied {_log.Applied})", nameof(meta));
        _log.CompactTo(meta.Index);
        TrimMembershipHistory(meta.Index);
        _snapshot = meta;
        _snapshotBytes = bytes;
        return true;
    }

    private void StartSnapshotTransfer(NodeId to, Progress pr)
    {
        if (_snapshot is null) throw new InvalidOperationException($"entries before {_log.FirstIndex} are gone but there is no snapshot");
        pr.BecomeSnapshot(_snapshot.Index);
        SendSnapshotChunks(to, pr, fromAcked: true);
    }

    /// <summary>Fills the window: chunks from what was sent up to <c>SnapshotChunksInFlight</c> chunks past what the
    /// follower acknowledged. <paramref name="fromAcked"/> goes back to the acknowledged offset first (a chunk or an
    /// ack was lost) and always sends at least one chunk (an empty snapshot is one empty, final chunk).</summary>
    private void SendSnapshotChunks(NodeId to, Progress pr, bool fromAcked)
    {
        var total = (ulong)_snapshotBytes;
        var window = (ulong)_config.SnapshotChunksInFlight * (ulong)_config.SnapshotChunkBytes;
        if (fromAcked)
        {
            pr.SnapshotSentBytes = pr.SnapshotAckedBytes;
            pr.SnapshotEpoch++;
            SendSnapshotChunk(to, pr, total);
        }
        while (pr.SnapshotSentBytes < total && pr.SnapshotSentBytes - pr.SnapshotAckedBytes < window) SendSnapshotChunk(to, pr, total);
    }

    private void SendSnapshotChunk(NodeId to, Progress pr, ulong total)
    {
        var offset = pr.SnapshotSentBytes;
        var length = (int)Math.Min((ulong)_config.SnapshotChunkBytes, total - offset);
        Send(new Message
        {
            Type = MessageType.Snapshot, From = Id, To = to, Term = Term, Context = pr.SnapshotEpoch,
            SnapshotMeta = _snapshot, SnapshotOffset = offset, SnapshotLength = length, SnapshotDone = offset + (ulong)length == total,
        });
        pr.SnapshotSentBytes = offset + (ulong)length;
    }

    /// <summary>Called every heartbeat for a follower receiving a snapshot: after two rounds without an
    /// acknowledgement (a chunk or its ack was lost), send again from the acknowledged offset.</summary>
    private void RetrySnapshotChunk(NodeId to, Progress pr)
    {
        if (_snapshot is null || _snapshot.Index != pr.PendingSnapshot)
        {
            // We compacted again since: start over with the newer snapshot.
            pr.BecomeProbe();
            return;
        }
        if (++pr.SnapshotIdleRounds < 2) return;
        pr.SnapshotIdleRounds = 0;
        SendSnapshotChunks(to, pr, fromAcked: true);
    }

    private void HandleSnapshotResponse(Message m, Progress pr)
    {
        if (pr.State != ProgressState.Snapshot || m.Index != pr.PendingSnapshot || _snapshot is null || _snapshot.Index != m.Index) return;
        var total = (ulong)_snapshotBytes;
        if (m.Reject)
        {
            // The follower cannot use a chunk (it restarted mid-way, or one before it was lost): go back to the offset it
            // holds — once per rewind: the other chunks of the same window are rejected too, with an older epoch.
            if (m.Context != pr.SnapshotEpoch) return;
            pr.SnapshotAckedBytes = Math.Min(m.SnapshotOffset, total);
            pr.SnapshotIdleRounds = 0;
            SendSnapshotChunks(m.From, pr, fromAcked: true);
            return;
        }
        if (m.SnapshotOffset <= pr.SnapshotAckedBytes || m.SnapshotOffset >= total) return;
        pr.SnapshotAckedBytes = m.SnapshotOffset;
        pr.SnapshotSentBytes = Math.Max(pr.SnapshotSentBytes, pr.SnapshotAckedBytes);
        pr.SnapshotIdleRounds = 0;
        SendSnapshotChunks(m.From, pr, fromAcked: false);
    }

    private void HandleSnapshotChunk(Message m)
    {
        var meta = m.SnapshotMeta!;
        if (meta.Index <= _log.Committed)
        {
            // We already hold this much; the ack moves the leader out of its snapshot state.
            _incomingSnapshot = null;
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = _log.Committed });
            return;
        }
        if (_incomingSnapshot is null || _incomingSnapshot.Meta.Index != meta.Index || _incomingSnapshot.Meta.Term != meta.Term)
        {
            if (m.SnapshotOffset != 0)
            {
                Send(SnapshotAck(m, meta.Index, 0, reject: true));
                return;
            }
            _incomingSnapshot = new IncomingSnapshot(meta);
        }
        var incoming = _incomingSnapshot;
        var held = incoming.Held;
        if (m.SnapshotOffset != held)
        {
            // A duplicate or a chunk after a lost one: say how much we hold so the leader resends from there.
            Send(SnapshotAck(m, meta.Index, held, reject: m.SnapshotOffset > held));
            return;
        }
        if (held + (ulong)m.SnapshotData.Length > (ulong)_config.MaxSnapshotBytes)
        {
            _incomingSnapshot = null;
            return;
        }
        // To storage with this Ready; the ack goes out after it (acks are sent once the batch is persisted).
        _receivedChunks.Add(new SnapshotChunk(meta, held, m.SnapshotData, m.SnapshotDone));
        incoming.Held = held + (ulong)m.SnapshotData.Length;
        if (!m.SnapshotDone)
        {
            Send(SnapshotAck(m, meta.Index, incoming.Held, reject: false));
            return;
        }
        _incomingSnapshot = null;
        RestoreSnapshot(meta, (long)incoming.Held);
        Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = _log.LastIndex });
    }

    private Message SnapshotAck(Message chunk, ulong index, ulong offset, bool reject) => new()
    {
        Type = MessageType.SnapshotResponse, From = Id, To = chunk.From, Term = Term, Index = index, SnapshotOffset = offset,
        Reject = reject, Context = chunk.Context,
    };

    private void RestoreSnapshot(SnapshotMeta meta, long bytes)
    {
        if (meta.Index <= _log.Committed) return;
        if (_log.MatchTerm(meta.Index, meta.Term))
        {
            // Our log already holds the snapshot's last entry, hence everything before it: just commit.
            _log.CommitTo(meta.Index);
            return;
        }
        _log.RestoreSnapshot(meta);
        // The leader's snapshot carries the membership at its index: it replaces ours, history and all.
        if (!meta.Membership.Voters.Incoming.IsEmpty) SwitchMembership(meta.Membership, meta.Index, resetHistory: true);
        _snapshot = meta;
        _snapshotBytes = bytes;
        _snapshotToInstall = meta;
    }
}
