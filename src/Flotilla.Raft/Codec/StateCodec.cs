using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>Encodings of the hard state and of a snapshot file's payload, for durable storage.</summary>
public static class StateCodec
{
    private const byte HardStateVersion = 1;
    private const byte SnapshotPayloadVersion = 1;

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

    /// <summary>The payload of a Raft snapshot file: the voters, then the service's state. Index and term live in the
    /// file's header (Flotilla.Wal.Snapshots.SnapshotFormat), which the file's checksum covers with this.</summary>
    public static byte[] EncodeSnapshotPayload(RaftSnapshot snapshot)
    {
        var w = new WireWriter(snapshot.Data.Length + 16);
        w.Byte(SnapshotPayloadVersion);
        w.VarUInt((ulong)snapshot.Meta.Voters.Count);
        foreach (var v in snapshot.Meta.Voters) w.VarInt(v.Value);
        w.Bytes(snapshot.Data.Span);
        return w.Written.ToArray();
    }

    public static RaftSnapshot DecodeSnapshotPayload(ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        if (r.Byte() != SnapshotPayloadVersion) throw new RaftCodecException("unknown snapshot payload version");
        var voters = new NodeId[r.Count(MessageCodec.MaxVoters)];
        for (var i = 0; i < voters.Length; i++) voters[i] = new NodeId(r.VarInt());
        var data = r.Bytes(int.MaxValue);
        if (!r.AtEnd) throw new RaftCodecException("trailing bytes after snapshot payload");
        return new RaftSnapshot(new SnapshotMeta(index, term, voters), data);
    }
}
