using System.Buffers.Binary;
using System.IO.Hashing;
using Flotilla.Runtime.Storage;

namespace Flotilla.Wal.Format;

/// <summary>
/// <c>wal/manifest</c>: names the last segment that was made durable (sequence and first index; sequence 0 = none yet).
/// Replaced atomically (temp file, fsync, rename, directory fsync) when a log is created and after each rotation,
/// once the new segment and its first batch are durable. It is how recovery knows where the log must at least
/// reach: a missing, empty or headerless last segment is no longer mistaken for the clean end of a shorter log.
/// <code>
///   u32 magic "FWMF"   u32 version 1   u64 lastSequence   u64 lastFirstIndex   u64 XxHash3-64 of the first 24 bytes
/// </code>
/// </summary>
internal readonly record struct Manifest(ulong LastSequence, ulong LastFirstIndex)
{
    private const uint Magic = 0x464D5746; // "FWMF"
    private const uint Version = 1;
    private const int Bytes = 32;

    public static string FileName(string directory) => directory + "/manifest";

    /// <summary>Null if the manifest does not exist; throws <see cref="WalCorruptionException"/> if it is damaged.</summary>
    public static async ValueTask<Manifest?> ReadAsync(IFileSystem fs, string directory, CancellationToken ct)
    {
        var name = FileName(directory);
        if (!fs.Exists(name)) return null;
        var bytes = await fs.ReadAllAsync(name, ct);
        if (Decode(bytes, out var manifest) is { } problem) throw new WalCorruptionException(name, 0, problem);
        return manifest;
    }

    public static string? Decode(ReadOnlySpan<byte> bytes, out Manifest manifest)
    {
        manifest = default;
        if (bytes.Length != Bytes) return $"manifest is {bytes.Length} bytes, expected {Bytes}";
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic) return "bad manifest magic";
        if (XxHash3.HashToUInt64(bytes[..24]) != BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..])) return "manifest checksum mismatch";
        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        if (version != Version) return $"unsupported manifest version {version}";
        manifest = new Manifest(BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]));
        return null;
    }

    public byte[] Encode()
    {
        var bytes = new byte[Bytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), Version);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), LastSequence);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), LastFirstIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), XxHash3.HashToUInt64(bytes.AsSpan(0, 24)));
        return bytes;
    }

    /// <summary>Durably replaces the manifest (the helper fsyncs the temp file and the directory).</summary>
    public ValueTask WriteAsync(IFileSystem fs, string directory, CancellationToken ct = default) =>
        fs.WriteAtomicallyAsync(FileName(directory), Encode(), ct);
}
