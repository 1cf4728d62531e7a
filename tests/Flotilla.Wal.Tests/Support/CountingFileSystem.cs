using Flotilla.Runtime.Storage;

namespace Flotilla.Wal.Tests.Support;

/// <summary>
/// Wraps a file system to count fsyncs and, when <see cref="HoldFlushes"/> is set, to keep each fsync pending
/// until the test releases it: the only way to have several SyncAsync calls genuinely overlap one flush.
/// </summary>
public sealed class CountingFileSystem(IFileSystem inner) : IFileSystem
{
    private readonly List<TaskCompletionSource> _held = [];

    public int FileFlushes { get; private set; }
    public int DirectorySyncs { get; private set; }
    public int Writes { get; private set; }
    public bool HoldFlushes { get; set; }

    public int HeldCount => _held.Count;

    /// <summary>Lets every held fsync complete.</summary>
    public void ReleaseHeld()
    {
        var held = _held.ToArray();
        _held.Clear();
        foreach (var h in held) h.SetResult();
    }

    public IStorageFile Open(string name, bool create = true) => new File(this, inner.Open(name, create));
    public bool Exists(string name) => inner.Exists(name);
    public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);
    public void Delete(string name) => inner.Delete(name);
    public void Rename(string from, string to) => inner.Rename(from, to);

    public ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default)
    {
        DirectorySyncs++;
        return inner.SyncDirectoryAsync(cancellationToken);
    }

    private async ValueTask HoldAsync()
    {
        if (!HoldFlushes) return;
        var gate = new TaskCompletionSource();
        _held.Add(gate);
        await gate.Task;
    }

    private sealed class File(CountingFileSystem fs, IStorageFile inner) : IStorageFile
    {
        public string Name => inner.Name;
        public long Length => inner.Length;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            fs.Writes++;
            return inner.WriteAsync(offset, data, cancellationToken);
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            fs.FileFlushes++;
            await fs.HoldAsync();
            await inner.FlushAsync(cancellationToken);
        }

        public void SetLength(long length) => inner.SetLength(length);
        public void Dispose() => inner.Dispose();
    }
}
