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

    public static RaftSnapshot DecodeSnapshotPayload(ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var version = r.Byte();
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
