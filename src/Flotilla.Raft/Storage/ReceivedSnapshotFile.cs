using System.Buffers.Binary;
using System.IO.Hashing;
using Flotilla.Runtime.Storage;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Raft;

/// <summary>
/// A leader's snapshot arriving in chunks, written as it comes straight into the shape of a snapshot file under a
/// temporary name: the header (filled in at the end), a version 3 payload prefix (the membership; the data runs to the
/// end of the payload, so no length is needed up front), then the data at its offset. <see cref="CompleteAsync"/> seals
/// it — header, checksum computed by reading the file back, fsync — and renames it over the snapshot file. So the
/// bytes go from the network to disk once, and nothing holds the whole snapshot in memory.
/// </summary>
internal sealed class ReceivedSnapshotFile : IDisposable
{
    private const int HashBlockBytes = 1 << 20;
    private readonly IFileSystem _fs;
    private readonly IStorageFile _file;
    private readonly long _dataStart;
    private bool _closed;

    private ReceivedSnapshotFile(IFileSystem fs, IStorageFile file, SnapshotMeta meta, long dataStart)
    {
        _fs = fs;
        _file = file;
        Meta = meta;
        _dataStart = dataStart;
    }

    public static string NameFor(string snapshotFile) => snapshotFile + ".incoming";

    public SnapshotMeta Meta { get; }

    /// <summary>Bytes of the service's data received so far.</summary>
    public long DataBytes { get; private set; }

    /// <summary>Where the data starts in the finished file.</summary>
    public long DataOffset => _dataStart;

    public static async ValueTask<ReceivedSnapshotFile> BeginAsync(IFileSystem fs, string snapshotFile, SnapshotMeta meta, CancellationToken ct)
    {
        var prefix = StateCodec.EncodeStreamedSnapshotPayloadPrefix(meta);
        var file = fs.Open(NameFor(snapshotFile), create: true);
        try
        {
            file.SetLength(0);
            var start = new byte[SnapshotFormat.HeaderBytes + prefix.Length]; // the header stays zero until CompleteAsync
            prefix.CopyTo(start.AsSpan(SnapshotFormat.HeaderBytes));
            await file.WriteAsync(0, start, ct);
            return new ReceivedSnapshotFile(fs, file, meta, start.Length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Writes data at <paramref name="offset"/>: the end of what was received, or earlier (a retried batch
    /// rewrites its chunks), never past the end.</summary>
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (offset > DataBytes) throw new InvalidOperationException($"snapshot chunk at {offset} leaves a gap after {DataBytes} bytes");
        await _file.WriteAsync(_dataStart + offset, data, ct);
        DataBytes = offset + data.Length;
        if (_file.Length > _dataStart + DataBytes) _file.SetLength(_dataStart + DataBytes);
    }

    /// <summary>Seals the file and renames it over <paramref name="snapshotFile"/>, durably; returns the file's size.
    /// Safe to call again after it failed (a full disk) as long as the rename did not happen.</summary>
    public async ValueTask<long> CompleteAsync(string snapshotFile, CancellationToken ct)
    {
        var covered = _dataStart + DataBytes;
        var header = new byte[SnapshotFormat.HeaderBytes];
        SnapshotFormat.WriteHeader(header, SnapshotKind.RaftGroup, Meta.Index, Meta.Term, covered - SnapshotFormat.HeaderBytes);
        await _file.WriteAsync(0, header, ct);
        var hash = new XxHash3();
        var block = new byte[HashBlockBytes];
        for (long at = 0; at < covered;)
        {
            var n = await _file.ReadAsync(at, block.AsMemory(0, (int)Math.Min(block.Length, covered - at)), ct);
            if (n == 0) throw new IOException($"{NameFor(snapshotFile)} is shorter than the {covered} bytes just written");
            hash.Append(block.AsSpan(0, n));
            at += n;
        }
        var trailer = new byte[SnapshotFormat.TrailerBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, hash.GetCurrentHashAsUInt64());
        await _file.WriteAsync(covered, trailer, ct);
        _file.SetLength(covered + trailer.Length);
        await _file.FlushAsync(ct);
        Dispose();
        _fs.Rename(NameFor(snapshotFile), snapshotFile);
        await _fs.SyncDirectoryAsync(ct);
        return covered + trailer.Length;
    }

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        _file.Dispose();
    }
}
