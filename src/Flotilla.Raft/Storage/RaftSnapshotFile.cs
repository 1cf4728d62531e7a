using Flotilla.Runtime.Storage;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Raft;

/// <summary>
/// A Raft group's snapshot file: the shared <see cref="SnapshotFormat"/> (kind <see cref="SnapshotKind.RaftGroup"/>,
/// the snapshot's index and term in the checksummed header) around <see cref="StateCodec.EncodeSnapshotPayload"/>.
/// </summary>
public static class RaftSnapshotFile
{
    public static string NameIn(string directory) => $"{directory}/snapshot";

    /// <summary>Replaces the file atomically and durably; returns the bytes written.</summary>
    public static async ValueTask<long> WriteAsync(IFileSystem fs, string name, RaftSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        var payload = StateCodec.EncodeSnapshotPayload(snapshot);
        await SnapshotFile.WriteAsync(fs, name, SnapshotKind.RaftGroup, snapshot.Index, snapshot.Term, payload, cancellationToken);
        return SnapshotFormat.HeaderBytes + payload.Length + SnapshotFormat.TrailerBytes;
    }

    /// <summary>Where a verified snapshot file's service data sits (it ends the payload), and its membership.</summary>
    public sealed record Located(SnapshotMeta Meta, long FileBytes, long DataOffset, long DataBytes);

    /// <summary>Verifies the file in blocks (never loading it whole) and locates the service's data in it; null when
    /// there is no file; anything unusable throws <see cref="SnapshotCorruptionException"/>.</summary>
    public static async ValueTask<Located?> VerifyAsync(IFileSystem fs, string name, CancellationToken cancellationToken = default)
    {
        if (await SnapshotFile.VerifyAsync(fs, name, SnapshotKind.RaftGroup, cancellationToken) is not { } header) return null;
        // Everything before the data (version, membership, a length) is small: the first MiB holds it.
        var head = new byte[(int)Math.Min(header.PayloadBytes, 1 << 20)];
        using (var file = fs.Open(name, create: false))
        {
            for (var done = 0; done < head.Length;)
            {
                var n = await file.ReadAsync(SnapshotFormat.HeaderBytes + done, head.AsMemory(done), cancellationToken);
                if (n == 0) throw new SnapshotCorruptionException(name, SnapshotFormat.HeaderBytes + done, "the file shrank while being read");
                done += n;
            }
        }
        try
        {
            var (meta, dataOffset) = StateCodec.DecodeSnapshotPayloadHead(header.Index, header.Term, head, header.PayloadBytes);
            var fileBytes = SnapshotFormat.HeaderBytes + header.PayloadBytes + SnapshotFormat.TrailerBytes;
            return new Located(meta, fileBytes, SnapshotFormat.HeaderBytes + dataOffset, header.PayloadBytes - dataOffset);
        }
        catch (RaftCodecException e)
        {
            throw new SnapshotCorruptionException(name, SnapshotFormat.HeaderBytes, $"the payload is not a Raft snapshot: {e.Message}", e);
        }
    }

    /// <summary>The verified snapshot and its file size, or null when there is none; anything unusable throws
    /// <see cref="SnapshotCorruptionException"/>.</summary>
    public static async ValueTask<(RaftSnapshot Snapshot, long Bytes)?> ReadAsync(IFileSystem fs, string name, CancellationToken cancellationToken = default)
    {
        if (await SnapshotFile.ReadAsync(fs, name, SnapshotKind.RaftGroup, cancellationToken) is not { } stored) return null;
        try
        {
            var snapshot = StateCodec.DecodeSnapshotPayload(stored.Index, stored.Term, stored.Payload.Span);
            return (snapshot, SnapshotFormat.HeaderBytes + stored.Payload.Length + SnapshotFormat.TrailerBytes);
        }
        catch (RaftCodecException e)
        {
            // The checksum matched, so these are the bytes that were written: a bug or a foreign writer, not bit rot.
            throw new SnapshotCorruptionException(name, SnapshotFormat.HeaderBytes, $"the payload is not a Raft snapshot: {e.Message}", e);
        }
    }
}
