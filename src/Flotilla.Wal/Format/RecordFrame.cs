using System.Buffers.Binary;
using System.IO.Hashing;

namespace Flotilla.Wal.Format;

/// <summary>
/// The on-disk frame of one record, 8-byte aligned:
/// <code>
///   u32 frameBytes   header + payload, never 0 (so a zero-filled, preallocated region reads as "end of log")
///   u8  type         <see cref="RecordType"/>
///   u8[3] reserved   0
///   u64 checksum     XxHash3-64 of the payload, seeded with the first 8 header bytes (so length and type are covered)
///   payload
///   zero padding to the next multiple of 8
/// </code>
/// Little-endian throughout. Alignment lets recovery probe every 8th offset after a bad record for valid ones,
/// which is how a torn tail is told apart from damage in the middle of the log.
/// </summary>
internal static class RecordFrame
{
    public const int HeaderBytes = 16;
    public const int Alignment = 8;

    public static int AlignedSize(int frameBytes) => (frameBytes + Alignment - 1) & ~(Alignment - 1);

    public static int FrameBytes(int payloadBytes) => HeaderBytes + payloadBytes;

    /// <summary>Writes header and padding around a payload already placed at <c>destination[HeaderBytes..]</c>.</summary>
    public static void Seal(Span<byte> destination, RecordType type, int payloadBytes)
    {
        var frameBytes = FrameBytes(payloadBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)frameBytes);
        destination[4] = (byte)type;
        destination[5] = destination[6] = destination[7] = 0;
        var seed = BinaryPrimitives.ReadInt64LittleEndian(destination);
        var checksum = XxHash3.HashToUInt64(destination.Slice(HeaderBytes, payloadBytes), seed);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], checksum);
        destination[frameBytes..AlignedSize(frameBytes)].Clear();
    }

    /// <summary>True when the 16 bytes at <paramref name="offset"/> are all zero: the end of written data.</summary>
    public static bool IsEndMarker(ReadOnlySpan<byte> segment, int offset) =>
        offset + HeaderBytes > segment.Length
            ? !segment[offset..].ContainsAnyExcept((byte)0)
            : !segment.Slice(offset, HeaderBytes).ContainsAnyExcept((byte)0);

    /// <summary>Checks the record at <paramref name="offset"/>. On success returns null and the record's parts;
    /// otherwise a reason it is not a valid record.</summary>
    public static string? TryRead(ReadOnlySpan<byte> segment, int offset, int recordBytesMax, out RecordType type,
        out ReadOnlySpan<byte> payload, out int alignedBytes)
    {
        type = 0;
        payload = default;
        alignedBytes = 0;
        if (offset + HeaderBytes > segment.Length) return "incomplete record header at end of file";
        var header = segment.Slice(offset, HeaderBytes);
        var frameBytes = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (frameBytes < HeaderBytes || frameBytes > (uint)recordBytesMax)
            return $"record length {frameBytes} outside [{HeaderBytes}, {recordBytesMax}]";
        if (offset + (long)frameBytes > segment.Length) return $"record of {frameBytes} bytes extends past end of file";
        var rawType = header[4];
        if (rawType is < (byte)RecordType.SegmentHeader or > (byte)RecordType.Batch) return $"unknown record type {rawType}";
        if (header[5] != 0 || header[6] != 0 || header[7] != 0) return "reserved header bytes are not zero";
        var body = segment.Slice(offset + HeaderBytes, (int)frameBytes - HeaderBytes);
        var seed = BinaryPrimitives.ReadInt64LittleEndian(header);
        if (XxHash3.HashToUInt64(body, seed) != BinaryPrimitives.ReadUInt64LittleEndian(header[8..])) return "checksum mismatch";
        type = (RecordType)rawType;
        payload = body;
        alignedBytes = AlignedSize((int)frameBytes);
        return null;
    }
}
