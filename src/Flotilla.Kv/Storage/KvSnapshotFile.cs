using Flotilla.Kv.StateMachine;
using Flotilla.Runtime.Storage;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Kv.Storage;

/// <summary>
/// The KV snapshot on disk: the shared <see cref="SnapshotFormat"/> (kind <see cref="SnapshotKind.KvStore"/>, index =
/// the log index of the last put the state includes, term 0) around <see cref="KvSnapshotCodec"/> bytes. The checksum
/// covers the header too, so a damaged index cannot make recovery skip or replay the wrong log records. Replaced
/// atomically, so it is always either the old or the new snapshot.
/// </summary>
internal static class KvSnapshotFile
{
    public static string NameIn(string directory) => $"{directory}/snapshot";

    public static async Task WriteAsync(IFileSystem fs, string directory, ulong lastIndex, byte[] state) =>
        await SnapshotFile.WriteAsync(fs, NameIn(directory), SnapshotKind.KvStore, lastIndex, 0, state);

    /// <summary>The stored state and its last index, or null when there is no snapshot file; anything unusable throws
    /// <see cref="SnapshotCorruptionException"/> (refuse to start rather than serve a store that lost acknowledged data).</summary>
    public static async Task<(ulong LastIndex, KvStateMachine State)?> ReadAsync(IFileSystem fs, string directory, CancellationToken cancellationToken)
    {
        var name = NameIn(directory);
        if (await SnapshotFile.ReadAsync(fs, name, SnapshotKind.KvStore, cancellationToken) is not { } stored) return null;
        try
        {
            return (stored.Index, KvStateMachine.Restore(stored.Payload.Span));
        }
        catch (InvalidDataException e)
        {
            // The checksum matched, so these are the bytes that were written: a bug or a foreign writer, not bit rot.
            throw new SnapshotCorruptionException(name, SnapshotFormat.HeaderBytes, $"the payload is not a KV state: {e.Message}", e);
        }
    }
}
