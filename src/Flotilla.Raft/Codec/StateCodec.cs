using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>Encodings of the hard state and of a snapshot file, for durable storage.</summary>
public static class StateCodec
{
    private const byte HardStateVersion = 1;
    private static ReadOnlySpan<byte> SnapshotMagic => "FRSN"u8;
    private const byte SnapshotVersion = 1;

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

    public static byte[] EncodeSnapshot(RaftSnapshot snapshot)
    {
        var w = new WireWriter(snapshot.Data.Length + 64);
        foreach (var b in SnapshotMagic) w.Byte(b);
        w.Byte(SnapshotVersion);
        w.VarUInt(snapshot.Index);
        w.VarUInt(snapshot.Term);
        w.VarUInt((ulong)snapshot.Meta.Voters.Count);
        foreach (var v in snapshot.Meta.Voters) w.VarInt(v.Value);
        w.Bytes(snapshot.Data.Span);
        return w.Written.ToArray();
    }

    public static RaftSnapshot DecodeSnapshot(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        foreach (var b in SnapshotMagic)
            if (r.Byte() != b) throw new RaftCodecException("not a snapshot file");
        if (r.Byte() != SnapshotVersion) throw new RaftCodecException("unknown snapshot version");
        var index = r.VarUInt();
        var term = r.VarUInt();
        var voters = new NodeId[r.Count(MessageCodec.MaxVoters)];
        for (var i = 0; i < voters.Length; i++) voters[i] = new NodeId(r.VarInt());
        var payload = r.Bytes(int.MaxValue);
        if (!r.AtEnd) throw new RaftCodecException("trailing bytes after snapshot");
        return new RaftSnapshot(new SnapshotMeta(index, term, voters), payload);
    }
}
