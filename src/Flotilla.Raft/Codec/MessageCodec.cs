using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>
/// The compact binary encoding of <see cref="Message"/> (hand-written, no reflection). Layout: version, type, flags,
/// then varints for ids and log coordinates, the entries, and the snapshot chunk when present. Decoding checks every
/// length against a limit and requires the input to be consumed exactly, so malformed bytes throw
/// <see cref="RaftCodecException"/> instead of reaching the state machine.
/// </summary>
public static class MessageCodec
{
    public const byte Version = 1;
    public const int MaxMessageBytes = 64 << 20;
    public const int MaxChunkBytes = 16 << 20;
    public const int MaxEntriesPerMessage = 1 << 20;
    public const int MaxVoters = 1024;

    [Flags]
    private enum Flags : byte
    {
        Reject = 1,
        Force = 2,
        SnapshotDone = 4,
        HasSnapshot = 8,
        /// <summary>The snapshot's membership is more than a plain voter list (joint, learners): the extras follow.
        /// Unset for every static cluster, whose messages are byte-for-byte what they were before membership changes.</summary>
        HasMembership = 16,
        /// <summary>A lease round number follows (heartbeats with lease reads on); unset otherwise, so messages of a
        /// cluster without lease reads are byte-for-byte what they were before.</summary>
        HasRound = 32,
    }

    public static ReadOnlyMemory<byte> Encode(Message m)
    {
        var w = new WireWriter(64 + m.Entries.Sum(e => e.Data.Length + 16) + m.SnapshotData.Length);
        w.Byte(Version);
        w.Byte((byte)m.Type);
        var flags = (m.Reject ? Flags.Reject : 0) | (m.Force ? Flags.Force : 0) | (m.SnapshotDone ? Flags.SnapshotDone : 0)
                    | (m.SnapshotMeta is not null ? Flags.HasSnapshot : 0) | (m.SnapshotMeta is { Membership.IsPlain: false } ? Flags.HasMembership : 0)
                    | (m.Round != 0 ? Flags.HasRound : 0);
        w.Byte((byte)flags);
        w.VarInt(m.From.Value);
        w.VarInt(m.To.Value);
        w.VarUInt(m.Term);
        w.VarUInt(m.LogTerm);
        w.VarUInt(m.Index);
        w.VarUInt(m.Commit);
        w.VarUInt(m.RejectHint);
        w.VarUInt(m.Context);
        w.VarUInt(m.SnapshotOffset);
        if (m.Round != 0) w.VarUInt(m.Round);
        w.VarUInt((ulong)m.Entries.Count);
        foreach (var e in m.Entries) EntryCodec.Write(w, e);
        if (m.SnapshotMeta is { } meta)
        {
            w.VarUInt(meta.Index);
            w.VarUInt(meta.Term);
            ConfChangeCodec.WriteIds(w, meta.Membership.Voters.Incoming);
            if (!meta.Membership.IsPlain) ConfChangeCodec.WriteExtras(w, meta.Membership);
            w.Bytes(m.SnapshotData.Span);
        }
        return w.Written;
    }

    public static Message Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxMessageBytes) throw new RaftCodecException($"message of {data.Length} bytes exceeds {MaxMessageBytes}");
        var r = new WireReader(data);
        var version = r.Byte();
        if (version != Version) throw new RaftCodecException($"unknown message version {version}");
        var type = (MessageType)r.Byte();
        if (!Enum.IsDefined(type)) throw new RaftCodecException($"unknown message type {(byte)type}");
        var flags = (Flags)r.Byte();
        if ((flags & ~(Flags.Reject | Flags.Force | Flags.SnapshotDone | Flags.HasSnapshot | Flags.HasMembership | Flags.HasRound)) != 0) throw new RaftCodecException("unknown flags");
        if ((flags & Flags.HasMembership) != 0 && (flags & Flags.HasSnapshot) == 0) throw new RaftCodecException("membership without a snapshot");
        var from = new NodeId(r.VarInt());
        var to = new NodeId(r.VarInt());
        var term = r.VarUInt();
        var logTerm = r.VarUInt();
        var index = r.VarUInt();
        var commit = r.VarUInt();
        var hint = r.VarUInt();
        var context = r.VarUInt();
        var offset = r.VarUInt();
        var round = (flags & Flags.HasRound) != 0 ? r.VarUInt() : 0;
        var count = r.Count(MaxEntriesPerMessage);
        var entries = count == 0 ? (IReadOnlyList<LogEntry>)[] : new List<LogEntry>(Math.Min(count, 4096));
        for (var i = 0; i < count; i++) ((List<LogEntry>)entries).Add(EntryCodec.Read(ref r));
        SnapshotMeta? meta = null;
        byte[] chunk = [];
        if ((flags & Flags.HasSnapshot) != 0)
        {
            var snapIndex = r.VarUInt();
            var snapTerm = r.VarUInt();
            var voters = ConfChangeCodec.ReadIds(ref r);
            meta = (flags & Flags.HasMembership) != 0
                ? new SnapshotMeta(snapIndex, snapTerm, ConfChangeCodec.ReadExtras(ref r, voters))
                : new SnapshotMeta(snapIndex, snapTerm, voters);
            chunk = r.Bytes(MaxChunkBytes);
        }
        if (!r.AtEnd) throw new RaftCodecException("trailing bytes after message");
        if (type == MessageType.Snapshot && meta is null) throw new RaftCodecException("snapshot message without snapshot metadata");
        return new Message
        {
            Type = type, From = from, To = to, Term = term, LogTerm = logTerm, Index = index, Commit = commit,
            Reject = (flags & Flags.Reject) != 0, RejectHint = hint, Force = (flags & Flags.Force) != 0, Context = context, Round = round,
            Entries = entries, SnapshotMeta = meta, SnapshotOffset = offset, SnapshotData = chunk,
            SnapshotDone = (flags & Flags.SnapshotDone) != 0,
        };
    }
}
