using System.Buffers.Binary;

namespace Flotilla.Wal.Format;

/// <summary>Fixed-layout payloads of the structured record types (little-endian).</summary>
internal static class Payloads
{
    public const uint Magic = 0x4C415746; // "FWAL"
    /// <summary>Format version 2 added batch records, the manifest and the segment chain; version 1 logs are refused.</summary>
    public const uint Version = 2;

    public const int SegmentHeaderBytes = 56;   // magic, version, sequence, firstIndex, allocated, prevSequence, prevFirstIndex, prevEnd
    public const int EntryPrefixBytes = 16;     // index, term; data follows
    public const int SnapshotBytes = 17;        // index, term, keepEntries
    public const int BatchBytes = 24;           // bodyBytes, recordCount, minEntryIndex, maxEntryIndex

    public static void WriteSegmentHeader(Span<byte> p, in SegmentHeader h)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], Version);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], h.Sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], h.FirstIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], h.AllocatedBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], h.PrevSequence);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], h.PrevFirstIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(p[48..], h.PrevEndBytes);
    }

    public static string? TryReadSegmentHeader(ReadOnlySpan<byte> p, out SegmentHeader header)
    {
        header = default;
        if (p.Length < 8) return $"segment header payload is {p.Length} bytes, expected {SegmentHeaderBytes}";
        if (BinaryPrimitives.ReadUInt32LittleEndian(p) != Magic) return "bad segment magic";
        var version = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        if (version != Version)
            return $"unsupported WAL format version {version} (this build reads version {Version} only; move the directory aside or restore the member from a peer)";
        if (p.Length != SegmentHeaderBytes) return $"segment header payload is {p.Length} bytes, expected {SegmentHeaderBytes}";
        header = new SegmentHeader(
            BinaryPrimitives.ReadUInt64LittleEndian(p[8..]), BinaryPrimitives.ReadUInt64LittleEndian(p[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[24..]), BinaryPrimitives.ReadUInt64LittleEndian(p[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[40..]), BinaryPrimitives.ReadUInt64LittleEndian(p[48..]));
        return null;
    }

    public static void WriteBatch(Span<byte> p, int bodyBytes, int recordCount, ulong minEntryIndex, ulong maxEntryIndex)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, (uint)bodyBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)recordCount);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], minEntryIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], maxEntryIndex);
    }

    public static string? TryReadBatch(ReadOnlySpan<byte> p, out uint bodyBytes, out uint recordCount, out ulong minEntryIndex, out ulong maxEntryIndex)
    {
        bodyBytes = recordCount = 0;
        minEntryIndex = maxEntryIndex = 0;
        if (p.Length != BatchBytes) return $"batch payload is {p.Length} bytes, expected {BatchBytes}";
        bodyBytes = BinaryPrimitives.ReadUInt32LittleEndian(p);
        recordCount = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        minEntryIndex = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
        maxEntryIndex = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]);
        if (bodyBytes % RecordFrame.Alignment != 0) return $"batch length {bodyBytes} is not a multiple of {RecordFrame.Alignment}";
        if (bodyBytes > int.MaxValue - 4096) return $"batch length {bodyBytes} is larger than any batch this log writes";
        if ((ulong)recordCount * RecordFrame.HeaderBytes > bodyBytes) return $"batch of {bodyBytes} bytes cannot hold {recordCount} records";
        if (minEntryIndex > maxEntryIndex) return $"batch entry range {minEntryIndex}..{maxEntryIndex} is reversed";
        return null;
    }

    public static void WriteEntryPrefix(Span<byte> p, ulong index, ulong term)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(p, index);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], term);
    }

    public static string? TryReadEntry(ReadOnlySpan<byte> p, out ulong index, out ulong term, out ReadOnlySpan<byte> data)
    {
        index = term = 0;
        data = default;
        if (p.Length < EntryPrefixBytes) return $"entry payload is {p.Length} bytes, shorter than {EntryPrefixBytes}";
        index = BinaryPrimitives.ReadUInt64LittleEndian(p);
        term = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
        data = p[EntryPrefixBytes..];
        return index == 0 ? "entry with index 0" : null;
    }

    public static void WriteSnapshot(Span<byte> p, ulong index, ulong term, bool keepEntries)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(p, index);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], term);
        p[16] = keepEntries ? (byte)1 : (byte)0;
    }

    public static string? TryReadSnapshot(ReadOnlySpan<byte> p, out ulong index, out ulong term, out bool keepEntries)
    {
        index = term = 0;
        keepEntries = false;
        if (p.Length != SnapshotBytes) return $"snapshot payload is {p.Length} bytes, expected {SnapshotBytes}";
        index = BinaryPrimitives.ReadUInt64LittleEndian(p);
        term = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
        if (p[16] > 1) return "snapshot keep flag is not 0 or 1";
        keepEntries = p[16] == 1;
        return null;
    }
}
