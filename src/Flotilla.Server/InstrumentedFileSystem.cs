using System.Diagnostics;
using Flotilla.Runtime.Storage;

namespace Flotilla.Server;

/// <summary>
/// Wraps a node's file system to time every fsync into <see cref="ServerMetrics"/>, without the WAL or Raft knowing
/// that metrics exist.
/// </summary>
internal sealed class InstrumentedFileSystem(IFileSystem inner, ServerMetrics metrics) : IFileSystem
{
    public IStorageFile Open(string name, bool create = true) => new File(inner.Open(name, create), metrics);
    public bool Exists(string name) => inner.Exists(name);
    public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);
    public void Delete(string name) => inner.Delete(name);
    public void Rename(string from, string to) => inner.Rename(from, to);

    public async ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        await inner.SyncDirectoryAsync(cancellationToken);
        metrics.RecordFsync(Stopwatch.GetElapsedTime(start));
    }

    private sealed class File(IStorageFile inner, ServerMetrics metrics) : IStorageFile
    {
        public string Name => inner.Name;
        public long Length => inner.Length;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);
        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(offset, data, cancellationToken);
        public void SetLength(long length) => inner.SetLength(length);
        public void Dispose() => inner.Dispose();

        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            await inner.FlushAsync(cancellationToken);
            metrics.RecordFsync(Stopwatch.GetElapsedTime(start));
        }
    }
}
