using System.Buffers.Binary;
using System.IO.Hashing;

namespace Flotilla.Wal.Snapshots;

/// <summary>
/// The one snapshot file format of every Flotilla store (Raft groups, the single-node KV), little-endian:
/// <code>
///   offset  size  field
///   0       4     magic "FLSN"
///   4       1     format version (1)
///   5       1     kind (<see cref="SnapshotKind"/>)
///   6       2     reserved, 0
///   8       8     index: the last log index the payload includes
///   16      8     term of that index (0 where the store has no terms)
///   24      8     payloadBytes
///   32      n     payload
///   32+n    8     XxHash3-64 of bytes [0, 32+n): the header is covered too, so a flipped index or term is caught
/// </code>
/// Decoding checks the size and the checksum before any field is used and throws only
/// <see cref="SnapshotCorruptionException"/>, naming the offset of the field at fault.
/// </summary>
public static class SnapshotFormat
{
    public const int HeaderBytes = 32;
    public const int TrailerBytes = 8;
    public const byte Version = 1;

    /// <summary>The largest payload: what one byte array can hold with the header and trailer around it.</summary>
    public static readonly long PayloadBytesMax = Array.MaxLength - HeaderBytes - TrailerBytes;

    /// <summary>The largest payload a file written as a stream may hold (a snapshot of a state larger than one array).</summary>
    public const long StreamedPayloadBytesMax = 1L << 42;

    private const uint Magic = 0x4E534C46; // "FLSN"
    // Formats before this one (no checksum over the header, or none at all): recognised only to say so.
    private const uint LegacyRaftMagic = 0x4E535246; // "FRSN"
    private const uint LegacyKvMagic = 0x564B4C46; // "FLKV"

    private const int VersionOffset = 4;
    private const int KindOffset = 5;
    private const int ReservedOffset = 6;
    private const int IndexOffset = 8;
    private const int TermOffset = 16;
    private const int LengthOffset = 24;

    public static byte[] Encode(SnapshotKind kind, ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > PayloadBytesMax) throw new ArgumentException($"a snapshot payload is at most {PayloadBytesMax} bytes", nameof(payload));
        var bytes = new byte[HeaderBytes + payload.Length + TrailerBytes];
        WriteHeader(bytes, kind, index, term, payload.Length);
        payload.CopyTo(bytes.AsSpan(HeaderBytes));
        var covered = HeaderBytes + payload.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(covered), XxHash3.HashToUInt64(bytes.AsSpan(0, covered)));
        return bytes;
    }

    /// <summary>The <see cref="HeaderBytes"/>-byte header of a file whose payload is <paramref name="payloadBytes"/> long:
    /// for writers that stream the payload to disk (the checksum then covers these bytes first, then the payload).</summary>
    public static void WriteHeader(Span<byte> header, SnapshotKind kind, ulong index, ulong term, long payloadBytes)
    {
        header[..HeaderBytes].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        header[VersionOffset] = Version;
        header[KindOffset] = (byte)kind;
        BinaryPrimitives.WriteUInt64LittleEndian(header[IndexOffset..], index);
        BinaryPrimitives.WriteUInt64LittleEndian(header[TermOffset..], term);
        BinaryPrimitives.WriteUInt64LittleEndian(header[LengthOffset..], (ulong)payloadBytes);
    }

    /// <summary>Verifies and decodes a whole file's bytes; <paramref name="file"/> names it in errors.</summary>
    public static StoredSnapshot Decode(string file, ReadOnlyMemory<byte> data, SnapshotKind expected)
    {
        var bytes = data.Span;
        var header = CheckHeader(file, bytes[..Math.Min(bytes.Length, HeaderBytes)], bytes.Length, expected);
        var covered = HeaderBytes + (int)header.PayloadBytes;
        CheckChecksum(file, covered, BinaryPrimitives.ReadUInt64LittleEndian(bytes[covered..]), XxHash3.HashToUInt64(bytes[..covered]));
        return new StoredSnapshot(header.Kind, header.Index, header.Term, data.Slice(HeaderBytes, covered - HeaderBytes));
    }

    /// <summary>
    /// Checks a file's header (its first <see cref="HeaderBytes"/> bytes, fewer if the file is shorter) against the
    /// file's length: the magic, version, kind and reserved bytes, and that the declared payload exactly fills the
    /// file. The checksum is the caller's to check (<see cref="CheckChecksum"/>), over the whole file or in blocks.
    /// </summary>
    public static SnapshotHeader CheckHeader(string file, ReadOnlySpan<byte> bytes, long fileLength, SnapshotKind expected)
    {
        if (fileLength < 4) throw Damaged(file, fileLength, $"truncated: {fileLength} bytes, not even a magic number");
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (magic is LegacyRaftMagic or LegacyKvMagic)
            throw Damaged(file, 0, "an older snapshot format without a checksum over its header; not loaded (restore this member from a peer or a backup)");
        if (magic != Magic) throw Damaged(file, 0, $"not a Flotilla snapshot file (magic 0x{magic:X8})");
        if (fileLength < HeaderBytes + TrailerBytes)
            throw Damaged(file, fileLength, $"truncated: {fileLength} bytes, shorter than the {HeaderBytes + TrailerBytes}-byte minimum");
        if (bytes[VersionOffset] != Version) throw Damaged(file, VersionOffset, $"unsupported snapshot format version {bytes[VersionOffset]} (this build reads {Version})");
        var kind = (SnapshotKind)bytes[KindOffset];
        if (kind != expected)
            throw Damaged(file, KindOffset, Enum.IsDefined(kind) ? $"holds a {kind} snapshot, expected {expected}" : $"unknown snapshot kind {(byte)kind}");
        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[ReservedOffset..]) != 0) throw Damaged(file, ReservedOffset, "reserved header bytes are not zero");
        var declared = BinaryPrimitives.ReadUInt64LittleEndian(bytes[LengthOffset..]);
        var actual = (ulong)(fileLength - HeaderBytes - TrailerBytes);
        if (declared > actual)
            throw Damaged(file, fileLength, $"truncated: the header declares {declared} payload bytes, the file holds {actual}");
        if (declared < actual)
            throw Damaged(file, HeaderBytes + (long)declared + TrailerBytes, $"{actual - declared} bytes past the end the header declares ({declared} payload bytes)");
        return new SnapshotHeader(kind, BinaryPrimitives.ReadUInt64LittleEndian(bytes[IndexOffset..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes[TermOffset..]), (long)declared);
    }

    /// <summary>Compares the stored checksum (the trailer at <paramref name="covered"/>) with the one computed over
    /// bytes [0, covered).</summary>
    public static void CheckChecksum(string file, long covered, ulong stored, ulong computed)
    {
        if (stored != computed) throw Damaged(file, covered, $"checksum mismatch (stored {stored:x16}, computed {computed:x16}): the file is damaged");
    }

    private static SnapshotCorruptionException Damaged(string file, long offset, string reason) => new(file, offset, reason);
}
