using Flotilla.Runtime.Storage;

namespace Flotilla.Wal.Snapshots;

/// <summary>
/// Writes and reads snapshot files (<see cref="SnapshotFormat"/>) through <see cref="IFileSystem"/>, and checks a
/// snapshot against the WAL's snapshot mark.
/// <para>The protocol every store follows (etcd's): write the snapshot file atomically (temp file, write, fsync,
/// rename over the old one, fsync the directory), then record the mark in the WAL, then compact the WAL. So after
/// any crash the file is the old or the new snapshot, and it is never older than the mark; a file newer than the mark
/// is the crash window between the rename and the mark, and legitimate.</para>
/// </summary>
public static class SnapshotFile
{
    /// <summary>Replaces <paramref name="name"/> atomically and durably with a new snapshot.</summary>
    public static async ValueTask WriteAsync(IFileSystem fs, string name, SnapshotKind kind, ulong index, ulong term, ReadOnlyMemory<byte> payload,
        CancellationToken cancellationToken = default)
    {
        var bytes = SnapshotFormat.Encode(kind, index, term, payload.Span);
        await fs.WriteAtomicallyAsync(name, bytes, cancellationToken);
    }

    /// <summary>
    /// The verified snapshot in <paramref name="name"/>, or null when there is no such file. Anything else that is not
    /// a valid snapshot of <paramref name="expected"/> kind (damaged, truncated, a directory, unreadable) throws
    /// <see cref="SnapshotCorruptionException"/>.
    /// </summary>
    public static async ValueTask<StoredSnapshot?> ReadAsync(IFileSystem fs, string name, SnapshotKind expected, CancellationToken cancellationToken = default)
    {
        if (OpenOrNull(fs, name) is not { } file) return null;
        byte[] bytes;
        using (file)
        {
            try
            {
                var length = file.Length;
                if (length > SnapshotFormat.PayloadBytesMax + SnapshotFormat.HeaderBytes + SnapshotFormat.TrailerBytes)
                    throw new SnapshotCorruptionException(name, length, $"{length} bytes is larger than any snapshot this build writes");
                bytes = new byte[length];
                await ReadExactlyAsync(file, name, 0, bytes, cancellationToken);
            }
            catch (IOException e) when (e is not SnapshotCorruptionException)
            {
                throw new SnapshotCorruptionException(name, -1, $"cannot be read: {e.Message}", e);
            }
        }
        return SnapshotFormat.Decode(name, bytes, expected);
    }

    /// <summary>
    /// Verifies the snapshot file in <paramref name="name"/> without loading it (the header, then the checksum computed
    /// in blocks): for snapshots larger than memory can hold twice. Null when there is no such file; anything else that
    /// is not a valid snapshot of <paramref name="expected"/> kind throws <see cref="SnapshotCorruptionException"/>, as
    /// <see cref="ReadAsync"/> does.
    /// </summary>
    public static async ValueTask<SnapshotHeader?> VerifyAsync(IFileSystem fs, string name, SnapshotKind expected, CancellationToken cancellationToken = default)
    {
        if (OpenOrNull(fs, name) is not { } file) return null;
        using (file)
        {
            try
            {
                var length = file.Length;
                if (length > SnapshotFormat.StreamedPayloadBytesMax + SnapshotFormat.HeaderBytes + SnapshotFormat.TrailerBytes)
                    throw new SnapshotCorruptionException(name, length, $"{length} bytes is larger than any snapshot this build writes");
                var head = new byte[(int)Math.Min(length, SnapshotFormat.HeaderBytes)];
                await ReadExactlyAsync(file, name, 0, head, cancellationToken);
                var header = SnapshotFormat.CheckHeader(name, head, length, expected);
                var covered = SnapshotFormat.HeaderBytes + header.PayloadBytes;
                var hash = new System.IO.Hashing.XxHash3();
                var block = new byte[(int)Math.Min(1 << 20, covered)];
                for (long at = 0; at < covered;)
                {
                    var n = (int)Math.Min(block.Length, covered - at);
                    await ReadExactlyAsync(file, name, at, block.AsMemory(0, n), cancellationToken);
                    hash.Append(block.AsSpan(0, n));
                    at += n;
                }
                var trailer = new byte[SnapshotFormat.TrailerBytes];
                await ReadExactlyAsync(file, name, covered, trailer, cancellationToken);
                SnapshotFormat.CheckChecksum(name, covered, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(trailer), hash.GetCurrentHashAsUInt64());
                return header;
            }
            catch (IOException e) when (e is not SnapshotCorruptionException)
            {
                throw new SnapshotCorruptionException(name, -1, $"cannot be read: {e.Message}", e);
            }
        }
    }

    /// <summary>The file, or null when there is none. Open rather than Exists: a directory in the file's place must not
    /// read as "no snapshot yet".</summary>
    private static IStorageFile? OpenOrNull(IFileSystem fs, string name)
    {
        try
        {
            return fs.Open(name, create: false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            // How .NET reports opening a directory (EISDIR) or a file without permission.
            throw new SnapshotCorruptionException(name, -1, $"cannot be opened as a file (is it a directory?): {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new SnapshotCorruptionException(name, -1, $"cannot be read: {e.Message}", e);
        }
    }

    private static async ValueTask ReadExactlyAsync(IStorageFile file, string name, long offset, Memory<byte> buffer, CancellationToken ct)
    {
        for (var done = 0; done < buffer.Length;)
        {
            var n = await file.ReadAsync(offset + done, buffer[done..], ct);
            if (n == 0) throw new SnapshotCorruptionException(name, offset + done, "the file shrank while being read");
            done += n;
        }
    }

    /// <summary>
    /// Refuses a snapshot that does not cover the WAL's snapshot mark: the WAL dropped (or will skip) every entry at
    /// or below the mark, so without a snapshot at least that new those entries are gone. A snapshot newer than the
    /// mark is the crash window between writing the file and writing the mark, and passes.
    /// </summary>
    public static void RequireCoversMark(string name, (ulong Index, ulong Term)? snapshot, ulong markIndex, ulong markTerm)
    {
        if (markIndex == 0) return;
        var required = $"the WAL says the snapshot at index {markIndex} term {markTerm} is required";
        if (snapshot is not { } found)
            throw new SnapshotCorruptionException(name, -1, $"missing, but {required} (the log before it was compacted away)");
        if (found.Index < markIndex)
            throw new SnapshotCorruptionException(name, -1, $"holds the older index {found.Index} term {found.Term}, but {required} (the entries between were compacted away)");
        if (found.Index == markIndex && found.Term != markTerm)
            throw new SnapshotCorruptionException(name, -1, $"holds index {found.Index} at term {found.Term}, but {required} (another history)");
    }
}
