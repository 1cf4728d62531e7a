using System.Diagnostics;
using Flotilla.Runtime.Storage;

namespace Flotilla.Server;

/// <summary>
/// Wraps a node's file system to time every fsync into <see cref="ServerMetrics"/>, without the WAL or Raft knowing
/// that metrics exist; and applies the disk faults of <see cref="StorageFaults"/> when a fault-injection run set them.
/// </summary>
internal sealed class InstrumentedFileSystem(IFileSystem inner, ServerMetrics metrics, StorageHealth health, StorageFaults? faults = null) : IFileSystem
{
    private readonly StorageFaults? _faults = faults is { Any: true } ? faults : null;

    public IStorageFile Open(string name, bool create = true)
    {
        try { return new File(inner.Open(name, create), metrics, health, _faults); }
        catch (IOException e) { health.Observe(e); throw; }
    }

    public bool Exists(string name) => inner.Exists(name);
    public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);
    public void Delete(string name) => inner.Delete(name);
    public void Rename(string from, string to) => inner.Rename(from, to);

    public async ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            if (_faults is not null) await _faults.BeforeFsyncAsync("the data directory", cancellationToken);
            await inner.SyncDirectoryAsync(cancellationToken);
        }
        catch (IOException e) { health.Observe(e); throw; }
        metrics.RecordFsync(Stopwatch.GetElapsedTime(start));
    }

    private sealed class File(IStorageFile inner, ServerMetrics metrics, StorageHealth health, StorageFaults? faults) : IStorageFile
    {
        public string Name => inner.Name;
        public long Length => inner.Length;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);

        public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            try { await inner.WriteAsync(offset, data, cancellationToken); }
            catch (IOException e) { health.Observe(e); throw; }
        }

        public void SetLength(long length)
        {
            try { inner.SetLength(length); }
            catch (IOException e) { health.Observe(e); throw; }
        }

        public void Dispose() => inner.Dispose();

        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                if (faults is not null) await faults.BeforeFsyncAsync(inner.Name, cancellationToken);
                await inner.FlushAsync(cancellationToken);
            }
            catch (IOException e) { health.Observe(e); throw; }
            metrics.RecordFsync(Stopwatch.GetElapsedTime(start));
        }
    }
}
