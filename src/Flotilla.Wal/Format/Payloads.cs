using System.Buffers.Binary;

namespace Flotilla.Wal.Format;

/// <summary>Fixed-layout payloads of the structured record types (little-endian).</summary>
internal static class Payloads
{
    public const uint Magic = 0x4C415746; // "FWAL"
    public const uint Version = 1;

    public const int SegmentHeaderBytes = 24;   // magic, version, sequence, firstIndex
    public const int EntryPrefixBytes = 16;     // index, term; data follows
    public const int SnapshotBytes = 17;        // index, term, keepEntries

    public static void WriteSegmentHeader(Span<byte> p, ulong sequence, ulong firstIndex)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], Version);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], firstIndex);
    }

    public static string? TryReadSegmentHeader(ReadOnlySpan<byte> p, out ulong sequence, out ulong firstIndex)
    {
        sequence = firstIndex = 0;
        if (p.Length != SegmentHeaderBytes) return $"segment header payload is {p.Length} bytes, expected {SegmentHeaderBytes}";
        if (BinaryPrimitives.ReadUInt32LittleEndian(p) != Magic) return "bad segment magic";
        var version = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        if (version != Version) return $"unsupported format version {version}";
        sequence = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
        firstIndex = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]);
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
