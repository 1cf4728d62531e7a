using System.Buffers.Binary;
using System.IO.Hashing;
using Flotilla.Runtime.Storage;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Raft;

/// <summary>
/// A snapshot file written as a stream, under a temporary name, in the shape of the final file: the header (filled in
/// when sealed), a version 3 payload prefix (the membership; the data runs to the end of the payload, so no length is
/// needed up front), then the service's data. Both a leader's snapshot arriving in chunks (<c>snapshot.incoming</c>)
/// and the service's own snapshot as it serializes (<c>snapshot.writing</c>) are written this way, so the bytes go to
/// disk once and nothing holds the whole snapshot in memory. <see cref="SealAsync"/> writes the header and the checksum
/// (computed by reading the file back) and fsyncs; <see cref="PublishAsync"/> renames it over the snapshot file.
/// </summary>
internal sealed class StreamedSnapshotFile : IDisposable
{
    private const int HashBlockBytes = 1 << 20;
    private readonly IFileSystem _fs;
    private readonly IStorageFile _file;
    private readonly string _name;
    private readonly long _dataStart;
    private bool _closed;

    private StreamedSnapshotFile(IFileSystem fs, IStorageFile file, string name, SnapshotMeta meta, long dataStart)
    {
        _fs = fs;
        _file = file;
        _name = name;
        Meta = meta;
        _dataStart = dataStart;
    }

    public SnapshotMeta Meta { get; }

    public string Name => _name;

    /// <summary>Bytes of the service's data written so far.</summary>
    public long DataBytes { get; private set; }

    /// <summary>Where the data starts in the finished file.</summary>
    public long DataOffset => _dataStart;

    /// <summary>The finished file's size, once sealed.</summary>
    public long FileBytes { get; private set; }

    public bool Sealed { get; private set; }

    public static async ValueTask<StreamedSnapshotFile> BeginAsync(IFileSystem fs, string name, SnapshotMeta meta, CancellationToken ct)
    {
        var prefix = StateCodec.EncodeStreamedSnapshotPayloadPrefix(meta);
        var file = fs.Open(name, create: true);
        try
        {
            file.SetLength(0);
            var start = new byte[SnapshotFormat.HeaderBytes + prefix.Length]; // the header stays zero until sealed
            prefix.CopyTo(start.AsSpan(SnapshotFormat.HeaderBytes));
            await file.WriteAsync(0, start, ct);
            return new StreamedSnapshotFile(fs, file, name, meta, start.Length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Writes data at <paramref name="offset"/>: the end of what was written, or earlier (a retried batch
    /// rewrites its chunks), never past the end.</summary>
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (offset > DataBytes) throw new InvalidOperationException($"snapshot chunk at {offset} leaves a gap after {DataBytes} bytes");
        await _file.WriteAsync(_dataStart + offset, data, ct);
        DataBytes = offset + data.Length;
        if (_file.Length > _dataStart + DataBytes) _file.SetLength(_dataStart + DataBytes);
    }

    /// <summary>A stream the service writes its data to (appending after what was written).</summary>
    public StorageFileWriteStream OpenDataStream() => new(_file, _dataStart + DataBytes);

    /// <summary>Writing through <see cref="OpenDataStream"/> ended: <paramref name="written"/> more bytes of data.</summary>
    public void DataStreamEnded(long written) => DataBytes += written;

    /// <summary>Writes the header and the checksum and makes the file durable (still under its temporary name). Safe to
    /// call again after it failed (a full disk).</summary>
    public async ValueTask SealAsync(CancellationToken ct)
    {
        var covered = _dataStart + DataBytes;
        var header = new byte[SnapshotFormat.HeaderBytes];
        SnapshotFormat.WriteHeader(header, SnapshotKind.RaftGroup, Meta.Index, Meta.Term, covered - SnapshotFormat.HeaderBytes);
        await _file.WriteAsync(0, header, ct);
        var hash = new XxHash3();
        var block = new byte[(int)Math.Min(HashBlockBytes, Math.Max(covered, 1))];
        for (long at = 0; at < covered;)
        {
            var n = await _file.ReadAsync(at, block.AsMemory(0, (int)Math.Min(block.Length, covered - at)), ct);
            if (n == 0) throw new IOException($"{_name} is shorter than the {covered} bytes just written");
            hash.Append(block.AsSpan(0, n));
            at += n;
        }
        var trailer = new byte[SnapshotFormat.TrailerBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, hash.GetCurrentHashAsUInt64());
        await _file.WriteAsync(covered, trailer, ct);
        _file.SetLength(covered + trailer.Length);
        await _file.FlushAsync(ct);
        FileBytes = covered + trailer.Length;
        Sealed = true;
    }

    /// <summary>Renames the sealed file over <paramref name="snapshotFile"/>, durably.</summary>
    public async ValueTask PublishAsync(string snapshotFile, CancellationToken ct)
    {
        if (!Sealed) throw new InvalidOperationException($"{_name} is not sealed");
        Dispose();
        _fs.Rename(_name, snapshotFile);
        await _fs.SyncDirectoryAsync(ct);
    }

    /// <summary>Closes the file and deletes it (a snapshot that was superseded or failed).</summary>
    public void Discard()
    {
        Dispose();
        try { _fs.Delete(_name); }
        catch (IOException) { }
    }

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        _file.Dispose();
    }
}
