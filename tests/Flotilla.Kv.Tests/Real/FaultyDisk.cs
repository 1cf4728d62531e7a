using Flotilla.Runtime.Storage;

namespace Flotilla.Kv.Tests.Real;

/// <summary>A file system that runs out of space on demand: while <see cref="Full"/>, every write, extension and
/// new file fails with ENOSPC (as a real full disk does); fsync still succeeds (there is nothing dirty it could lose).</summary>
internal sealed class FaultyDisk(IFileSystem inner, string path) : IFileSystem
{
    public volatile bool Full;

    public int Refused;

    private void ThrowIfFull(string name)
    {
        if (!Full) return;
        Interlocked.Increment(ref Refused);
        throw DiskFull.Exception($"{path}/{name}");
    }

    public IStorageFile Open(string name, bool create = true)
    {
        if (create && !inner.Exists(name)) ThrowIfFull(name);
        return new File(inner.Open(name, create), this);
    }

    public bool Exists(string name) => inner.Exists(name);
    public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);
    public void Delete(string name) => inner.Delete(name);
    public void Rename(string from, string to) => inner.Rename(from, to);
    public ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default) => inner.SyncDirectoryAsync(cancellationToken);

    private sealed class File(IStorageFile inner, FaultyDisk disk) : IStorageFile
    {
        public string Name => inner.Name;
        public long Length => inner.Length;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            disk.ThrowIfFull(Name);
            return inner.WriteAsync(offset, data, cancellationToken);
        }

        public void SetLength(long length)
        {
            if (length > inner.Length) disk.ThrowIfFull(Name);
            inner.SetLength(length);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
        public void Dispose() => inner.Dispose();
    }
}
