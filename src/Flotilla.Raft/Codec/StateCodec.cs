using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>Encodings of the hard state and of a snapshot file's payload, for durable storage.</summary>
public static class StateCodec
{
    private const byte HardStateVersion = 1;
    /// <summary>Version 1: the voters (a plain group). Version 2 adds the rest of the membership (outgoing voters,
    /// learners, learners-next, autoleave). A plain membership is still written as version 1, so a static cluster's
    /// snapshot files are unchanged and readable by older builds.</summary>
    private const byte SnapshotPayloadVersion = 1;
    private const byte SnapshotPayloadVersionWithMembership = 2;
    /// <summary>Version 3 (what a follower writes as a leader's snapshot arrives): the membership, then the service's
    /// data to the end of the payload, with no length in front, so the file can be written before its size is known.</summary>
    private const byte SnapshotPayloadVersionStreamed = 3;

    public static byte[] EncodeHardState(HardState state)
    {
        var w = new WireWriter(32);
        w.Byte(HardStateVersion);
        w.VarUInt(state.Term);
        w.Byte(state.VotedFor is null ? (byte)0 : (byte)1);
        w.VarInt(state.VotedFor?.Value ?? 0);
        w.VarUInt(state.Commit);
        return w.Written.ToArray();
    }

    public static HardState DecodeHardState(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        if (r.Byte() != HardStateVersion) throw new RaftCodecException("unknown hard state version");
        var term = r.VarUInt();
        var hasVote = r.Byte();
        var vote = r.VarInt();
        var commit = r.VarUInt();
        if (hasVote > 1 || !r.AtEnd) throw new RaftCodecException("malformed hard state");
        return new HardState(term, hasVote == 1 ? new NodeId(vote) : null, commit);
    }

    /// <summary>The payload of a Raft snapshot file: the membership, then the service's state. Index and term live in
    /// the file's header (Flotilla.Wal.Snapshots.SnapshotFormat), which the file's checksum covers with this.</summary>
    public static byte[] EncodeSnapshotPayload(RaftSnapshot snapshot)
    {
        var membership = snapshot.Meta.Membership;
        var w = new WireWriter(snapshot.Data.Length + 16);
        w.Byte(membership.IsPlain ? SnapshotPayloadVersion : SnapshotPayloadVersionWithMembership);
        ConfChangeCodec.WriteIds(w, membership.Voters.Incoming);
        if (!membership.IsPlain) ConfChangeCodec.WriteExtras(w, membership);
        w.Bytes(snapshot.Data.Span);
        return w.Written.ToArray();
    }

    /// <summary>What a version 3 payload holds before the service's data: the data follows to the end of the payload.</summary>
    internal static byte[] EncodeStreamedSnapshotPayloadPrefix(SnapshotMeta meta)
    {
        var membership = meta.Membership;
        var w = new WireWriter(64);
        w.Byte(SnapshotPayloadVersionStreamed);
        ConfChangeCodec.WriteIds(w, membership.Voters.Incoming);
        w.Byte(membership.IsPlain ? (byte)0 : (byte)1);
        if (!membership.IsPlain) ConfChangeCodec.WriteExtras(w, membership);
        return w.Written.ToArray();
    }

    /// <summary>The membership and where the service's data starts, from the first bytes of a payload of
    /// <paramref name="payloadBytes"/> bytes (<paramref name="head"/>: at least everything before the data): for
    /// snapshots read as a stream. The data always runs to the end of the payload.</summary>
    internal static (SnapshotMeta Meta, long DataOffset) DecodeSnapshotPayloadHead(ulong index, ulong term, ReadOnlySpan<byte> head, long payloadBytes)
    {
        var r = new WireReader(head);
        var version = r.Byte();
        if (version is not (SnapshotPayloadVersion or SnapshotPayloadVersionWithMembership or SnapshotPayloadVersionStreamed)) throw new RaftCodecException("unknown snapshot payload version");
        var voters = ConfChangeCodec.ReadIds(ref r);
        var extras = version switch
        {
            SnapshotPayloadVersion => false,
            SnapshotPayloadVersionWithMembership => true,
            _ => r.Byte() switch { 0 => false, 1 => true, _ => throw new RaftCodecException("malformed snapshot membership flag") },
        };
        var meta = extras ? new SnapshotMeta(index, term, ConfChangeCodec.ReadExtras(ref r, voters)) : new SnapshotMeta(index, term, voters);
        if (version == SnapshotPayloadVersionStreamed) return (meta, r.Position);
        var length = r.VarUInt();
        if ((long)length != payloadBytes - r.Position) throw new RaftCodecException($"the snapshot data declares {length} bytes, the payload holds {payloadBytes - r.Position}");
        return (meta, r.Position);
    }

    public static RaftSnapshot DecodeSnapshotPayload(ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var version = r.Byte();
        if (version == SnapshotPayloadVersionStreamed)
        {
            var ids = ConfChangeCodec.ReadIds(ref r);
            var extras = r.Byte();
            if (extras > 1) throw new RaftCodecException("malformed snapshot membership flag");
            var streamedMeta = extras == 0 ? new SnapshotMeta(index, term, ids) : new SnapshotMeta(index, term, ConfChangeCodec.ReadExtras(ref r, ids));
            return new RaftSnapshot(streamedMeta, r.Rest().ToArray());
        }
        if (version is not (SnapshotPayloadVersion or SnapshotPayloadVersionWithMembership)) throw new RaftCodecException("unknown snapshot payload version");
        var voters = ConfChangeCodec.ReadIds(ref r);
        var meta = version == SnapshotPayloadVersion
            ? new SnapshotMeta(index, term, voters)
            : new SnapshotMeta(index, term, ConfChangeCodec.ReadExtras(ref r, voters));
        var data = r.Bytes(int.MaxValue);
        if (!r.AtEnd) throw new RaftCodecException("trailing bytes after snapshot payload");
        return new RaftSnapshot(meta, data);
    }
}
