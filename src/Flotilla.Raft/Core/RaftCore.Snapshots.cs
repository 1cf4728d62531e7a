using Flotilla.Runtime;

namespace Flotilla.Raft;

// InstallSnapshot (§7), sent in chunks with offset/done so no single message carries a large snapshot.
public sealed partial class RaftCore
{
    /// <summary>A snapshot being received: chunks must arrive in order; anything else is answered with our offset.</summary>
    private sealed class SnapshotAssembly(SnapshotMeta meta)
    {
        public SnapshotMeta Meta { get; } = meta;
        public MemoryStream Data { get; } = new();
    }

    /// <summary>
    /// The application snapshotted its state up to <paramref name="index"/> (at most what it applied): remember the
    /// snapshot (to send to followers that fall behind) and drop the log entries it covers. Returns the snapshot for
    /// the driver to persist, or null if it is not newer than the one we have.
    /// </summary>
    public RaftSnapshot? Compact(ulong index, ReadOnlyMemory<byte> data)
    {
        if (index <= _log.SnapshotIndex) return null;
        if (index > _log.Applied) throw new ArgumentOutOfRangeException(nameof(index), $"snapshot at {index} but only {_log.Applied} applied");
        var snapshot = new RaftSnapshot(new SnapshotMeta(index, _log.TermAt(index)!.Value, MembershipAt(index)), data.ToArray());
        _log.CompactTo(index);
        TrimMembershipHistory(index);
        _snapshot = snapshot;
        return snapshot;
    }

    private void StartSnapshotTransfer(NodeId to, Progress pr)
    {
        if (_snapshot is null) throw new InvalidOperationException($"entries before {_log.FirstIndex} are gone but there is no snapshot");
        pr.BecomeSnapshot(_snapshot.Index);
        SendSnapshotChunk(to, pr);
    }

    private void SendSnapshotChunk(NodeId to, Progress pr)
    {
        var snapshot = _snapshot!;
        var offset = (int)pr.SnapshotAckedBytes;
        var length = Math.Min(_config.SnapshotChunkBytes, snapshot.Data.Length - offset);
        Send(new Message
        {
            Type = MessageType.Snapshot, From = Id, To = to, Term = Term,
            SnapshotMeta = snapshot.Meta, SnapshotOffset = (ulong)offset,
            SnapshotData = snapshot.Data.Slice(offset, length), SnapshotDone = offset + length == snapshot.Data.Length,
        });
    }

    /// <summary>Called every heartbeat for a follower receiving a snapshot: resend the current chunk if the
    /// previous round brought no acknowledgement (the chunk or its ack was lost).</summary>
    private void RetrySnapshotChunk(NodeId to, Progress pr)
    {
        if (_snapshot is null || _snapshot.Index != pr.PendingSnapshot)
        {
            // We compacted again since: start over with the newer snapshot.
            pr.BecomeProbe();
            return;
        }
        if (++pr.SnapshotIdleRounds >= 2) SendSnapshotChunk(to, pr);
    }

    private void HandleSnapshotResponse(Message m, Progress pr)
    {
        if (pr.State != ProgressState.Snapshot || m.Index != pr.PendingSnapshot || _snapshot is null || _snapshot.Index != m.Index) return;
        if (m.Reject)
        {
            // The follower could not use the transfer (e.g. restarted mid-way): resume where it says.
            pr.SnapshotAckedBytes = Math.Min(m.SnapshotOffset, (ulong)_snapshot.Data.Length);
            pr.SnapshotIdleRounds = 0;
            SendSnapshotChunk(m.From, pr);
            return;
        }
        if (m.SnapshotOffset <= pr.SnapshotAckedBytes || m.SnapshotOffset >= (ulong)_snapshot.Data.Length) return;
        pr.SnapshotAckedBytes = m.SnapshotOffset;
        pr.SnapshotIdleRounds = 0;
        SendSnapshotChunk(m.From, pr);
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
                Send(SnapshotAck(m.From, meta.Index, 0, reject: true));
                return;
            }
            _incomingSnapshot = new SnapshotAssembly(meta);
        }
        var assembly = _incomingSnapshot;
        var held = (ulong)assembly.Data.Length;
        if (m.SnapshotOffset != held)
        {
            // A duplicate or a chunk after a lost one: say how much we hold so the leader resends from there.
            Send(SnapshotAck(m.From, meta.Index, held, reject: m.SnapshotOffset > held));
            return;
        }
        if (held + (ulong)m.SnapshotData.Length > (ulong)_config.MaxSnapshotBytes)
        {
            _incomingSnapshot = null;
            return;
        }
        assembly.Data.Write(m.SnapshotData.Span);
        if (!m.SnapshotDone)
        {
            Send(SnapshotAck(m.From, meta.Index, (ulong)assembly.Data.Length, reject: false));
            return;
        }
        _incomingSnapshot = null;
        RestoreSnapshot(new RaftSnapshot(meta, assembly.Data.ToArray()));
        Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term, Index = _log.LastIndex });
    }

    private Message SnapshotAck(NodeId to, ulong index, ulong offset, bool reject) => new()
    {
        Type = MessageType.SnapshotResponse, From = Id, To = to, Term = Term, Index = index, SnapshotOffset = offset, Reject = reject,
    };

    private void RestoreSnapshot(RaftSnapshot snapshot)
    {
        if (snapshot.Index <= _log.Committed) return;
        if (_log.MatchTerm(snapshot.Index, snapshot.Term))
        {
            // Our log already holds the snapshot's last entry, hence everything before it: just commit.
            _log.CommitTo(snapshot.Index);
            return;
        }
        _log.RestoreSnapshot(snapshot.Meta);
        // The leader's snapshot carries the membership at its index: it replaces ours, history and all.
        if (!snapshot.Meta.Membership.Voters.Incoming.IsEmpty) SwitchMembership(snapshot.Meta.Membership, snapshot.Index, resetHistory: true);
        _snapshot = snapshot;
        _snapshotToInstall = snapshot;
    }
}
