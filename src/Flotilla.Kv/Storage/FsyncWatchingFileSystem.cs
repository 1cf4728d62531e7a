using Flotilla.Runtime.Storage;

namespace Flotilla.Kv.Storage;

/// <summary>
/// Passes everything through and remembers whether an fsync under <c>directory</c> ever failed. That decides what a
/// full disk costs: a failed <em>write</em> (ENOSPC) leaves the pages it could not write unwritten and everything
/// fsynced before intact, so reopening the log from disk and carrying on is safe; after a failed <em>fsync</em> the
/// kernel may have dropped dirty pages it still shows to reads (see docs/wal.md "Failure"), so nothing read back
/// can be trusted until a restart.
/// </summary>
internal sealed class FsyncWatchingFileSystem(IFileSystem inner, string directory) : IFileSystem
{
    private readonly string _prefix = directory.TrimEnd('/') + "/";
    private volatile bool _fsyncFailed;

    public bool FsyncFailed => _fsyncFailed;

    public IStorageFile Open(string name, bool create = true)
    {
        var file = inner.Open(name, create);
        return name.StartsWith(_prefix, StringComparison.Ordinal) ? new File(file, this) : file;
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
            _fsyncFailed = true;
            throw;
        }
    }

    private sealed class File(IStorageFile inner, FsyncWatchingFileSystem owner) : IStorageFile
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
                owner._fsyncFailed = true;
                throw;
            }
        }
    }
}
