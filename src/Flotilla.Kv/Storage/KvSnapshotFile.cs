using System.Buffers.Binary;
using System.IO.Hashing;
using Flotilla.Kv.StateMachine;
using Flotilla.Runtime.Storage;

namespace Flotilla.Kv.Storage;

/// <summary>
/// The KV snapshot on disk: <c>u32 magic "FLKV", u64 lastIndex, u32 crc32(state), u32 stateBytes, state</c>, where
/// lastIndex is the log index of the last put the state includes. Replaced atomically (temp file, fsync, rename,
/// directory fsync), so it is always either the old or the new snapshot.
/// </summary>
internal static class KvSnapshotFile
{
    private const uint Magic = 0x564B4C46;
    private const int HeaderBytes = 20;

    public static string NameIn(string directory) => $"{directory}/snapshot";

    public static async Task WriteAsync(IFileSystem fs, string directory, ulong lastIndex, byte[] state)
    {
        var bytes = new byte[HeaderBytes + state.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(4), lastIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), Crc32.HashToUInt32(state));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)state.Length);
        state.CopyTo(bytes.AsSpan(HeaderBytes));
        await fs.WriteAtomicallyAsync(NameIn(directory), bytes);
    }

    /// <summary>The stored state and its last index; an empty store at index 0 when there is no snapshot yet.</summary>
    public static async Task<(ulong LastIndex, KvStateMachine State)> ReadAsync(IFileSystem fs, string directory, CancellationToken cancellationToken)
    {
        var name = NameIn(directory);
        if (!fs.Exists(name)) return (0, new KvStateMachine());
        var bytes = await fs.ReadAllAsync(name, cancellationToken);
        // Written atomically, so damage is real corruption, not a crash: refuse to start rather than silently serve
        // a store that lost acknowledged data.
        if (bytes.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
            throw new InvalidDataException($"{name} is not a Flotilla KV snapshot");
        var lastIndex = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(4));
        var state = bytes.AsSpan(HeaderBytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)) != state.Length
            || Crc32.HashToUInt32(state) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)))
            throw new InvalidDataException($"{name} is damaged (length or checksum mismatch)");
        return (lastIndex, KvStateMachine.Restore(state));
    }
}
