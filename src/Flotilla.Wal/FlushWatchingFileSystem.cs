using Flotilla.Runtime.Storage;

namespace Flotilla.Wal;

/// <summary>
/// Passes everything through and remembers whether an fsync (of a file under <c>directory</c>, every file when it is
/// null, or of the directory) ever failed. That decides
/// what a full disk costs the log: a failed <em>write</em> (ENOSPC) leaves unwritten what it could not write and
/// everything fsynced before intact, so reopening and carrying on is safe; after a failed <em>fsync</em> the kernel may
/// have dropped dirty pages it still shows to reads, so nothing read back can be trusted until a restart. The WAL
/// wraps its file system in one; the single-node KV hands the WAL one of its own to read the same flag.
/// </summary>
public sealed class FlushWatchingFileSystem(IFileSystem inner, string? directory = null) : IFileSystem
{
    private readonly string? _prefix = directory is null ? null : directory.TrimEnd('/') + "/";
    private volatile bool _flushFailed;

    public bool FlushFailed => _flushFailed;

    /// <summary>The file system itself when it already watches, else a watcher of every file in it.</summary>
    public static FlushWatchingFileSystem Wrap(IFileSystem fs) => fs as FlushWatchingFileSystem ?? new FlushWatchingFileSystem(fs);

    public IStorageFile Open(string name, bool create = true)
    {
        var file = inner.Open(name, create);
        return _prefix is null || name.StartsWith(_prefix, StringComparison.Ordinal) ? new File(file, this) : file;
    }
    public bool Exists(string name) => inner.Exists(name);
    public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);
    public void Delete(string name) => inner.Delete(name);
    public void Rename(string from, string to) => inner.Rename(from, to);

    public async ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default)
    {
        try { await inner.SyncDirectoryAsync(cancellationToken); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _flushFailed = true;
            throw;
        }
    }

    private sealed class File(IStorageFile inner, FlushWatchingFileSystem owner) : IStorageFile
    {
        public string Name => inner.Name;
        public long Length => inner.Length;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);
        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(offset, data, cancellationToken);
        public void SetLength(long length) => inner.SetLength(length);
        public void Dispose() => inner.Dispose();

        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            try { await inner.FlushAsync(cancellationToken); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                owner._flushFailed = true;
                throw;
            }
        }
    }
}
