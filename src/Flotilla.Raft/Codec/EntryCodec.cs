namespace Flotilla.Raft;

/// <summary>Encoding of one log entry, shared by messages and storage.</summary>
public static class EntryCodec
{
    public const int MaxEntryBytes = 32 << 20;

    internal static void Write(WireWriter w, LogEntry e)
    {
        w.VarUInt(e.Index);
        w.VarUInt(e.Term);
        w.Byte((byte)e.Kind);
        w.Bytes(e.Data.Span);
    }

    internal static LogEntry Read(ref WireReader r)
    {
        var index = r.VarUInt();
        var term = r.VarUInt();
        var kind = (EntryKind)r.Byte();
        if (!Enum.IsDefined(kind)) throw new RaftCodecException($"unknown entry kind {(byte)kind}");
        var data = r.Bytes(MaxEntryBytes);
        return new LogEntry(index, term, kind, data);
    }

    /// <summary>The entry's kind and payload only (index and term live in the storage record around it).</summary>
    public static byte[] EncodePayload(LogEntry e)
    {
        var result = new byte[1 + e.Data.Length];
        result[0] = (byte)e.Kind;
        e.Data.Span.CopyTo(result.AsSpan(1));
        return result;
    }

    public static LogEntry DecodePayload(ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1) throw new RaftCodecException("empty entry payload");
        var kind = (EntryKind)payload[0];
        if (!Enum.IsDefined(kind)) throw new RaftCodecException($"unknown entry kind {(byte)kind}");
        return new LogEntry(index, term, kind, payload[1..].ToArray());
    }
}
