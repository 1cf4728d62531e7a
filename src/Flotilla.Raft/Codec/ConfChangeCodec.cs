using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>
/// Encodings of membership: a <see cref="ConfChange"/> (the data of a <see cref="EntryKind.ConfChange"/> entry) and
/// the parts of a <see cref="MembershipConfig"/> beyond its voters (snapshot metadata, on the wire and on disk).
/// Decoding refuses anything a correct node cannot have written with <see cref="RaftCodecException"/>.
/// </summary>
public static class ConfChangeCodec
{
    private const byte ConfChangeVersion = 1;
    public const int MaxChanges = MessageCodec.MaxVoters;
    public const int MaxContextBytes = 64 << 10;

    public static byte[] Encode(ConfChange change)
    {
        var w = new WireWriter(16 + 6 * change.Changes.Count + change.Context.Length);
        w.Byte(ConfChangeVersion);
        w.Byte((byte)change.Transition);
        w.VarUInt((ulong)change.Changes.Count);
        foreach (var c in change.Changes)
        {
            w.Byte((byte)c.Type);
            w.VarInt(c.Node.Value);
        }
        w.Bytes(change.Context.Span);
        return w.Written.ToArray();
    }

    public static ConfChange Decode(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        if (r.Byte() != ConfChangeVersion) throw new RaftCodecException("unknown conf change version");
        var transition = (ConfChangeTransition)r.Byte();
        if (!Enum.IsDefined(transition)) throw new RaftCodecException($"unknown conf change transition {(byte)transition}");
        var changes = new ConfChangeSingle[r.Count(MaxChanges)];
        for (var i = 0; i < changes.Length; i++)
        {
            var type = (ConfChangeType)r.Byte();
            if (!Enum.IsDefined(type)) throw new RaftCodecException($"unknown conf change type {(byte)type}");
            changes[i] = new ConfChangeSingle(type, new NodeId(r.VarInt()));
        }
        var context = r.Bytes(MaxContextBytes);
        if (!r.AtEnd) throw new RaftCodecException("trailing bytes after conf change");
        return new ConfChange(transition, changes) { Context = context };
    }

    internal static void WriteIds(WireWriter w, MajorityConfig ids)
    {
        w.VarUInt((ulong)ids.Count);
        foreach (var id in ids.Ids) w.VarInt(id.Value);
    }

    internal static NodeId[] ReadIds(ref WireReader r)
    {
        var ids = new NodeId[r.Count(MessageCodec.MaxVoters)];
        for (var i = 0; i < ids.Length; i++) ids[i] = new NodeId(r.VarInt());
        return ids;
    }

    /// <summary>Everything but the incoming voters (written before this by the caller, in the older formats' place).</summary>
    internal static void WriteExtras(WireWriter w, MembershipConfig config)
    {
        WriteIds(w, config.Voters.Outgoing);
        WriteIds(w, config.Learners);
        WriteIds(w, config.LearnersNext);
        w.Byte(config.AutoLeave ? (byte)1 : (byte)0);
    }

    internal static MembershipConfig ReadExtras(ref WireReader r, NodeId[] voters)
    {
        var outgoing = ReadIds(ref r);
        var learners = ReadIds(ref r);
        var learnersNext = ReadIds(ref r);
        var autoLeave = r.Byte();
        if (autoLeave > 1) throw new RaftCodecException("malformed autoleave flag");
        var config = new MembershipConfig(new JointConfig(new MajorityConfig(voters), new MajorityConfig(outgoing)), learners, learnersNext, autoLeave == 1);
        if (config.Invalid() is { } broken) throw new RaftCodecException($"impossible membership: {broken}");
        return config;
    }
}
