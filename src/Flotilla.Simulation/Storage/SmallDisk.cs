using Flotilla.Runtime.Storage;

namespace Flotilla.Simulation.Storage;

/// <summary>
/// A file system with a capacity, over any other one, for tests of a full disk. It fails the way a real full disk
/// does: a write that would grow the bytes in use past <see cref="CapacityBytes"/> (extending a file, a new file's
/// contents) throws ENOSPC and writes nothing, while overwriting bytes a file already has costs nothing (so a
/// zero-filled, preallocated segment can still be written into). Deleting or shrinking a file gives its bytes back.
/// <see cref="FlushErrno"/> makes every fsync fail instead (EIO = 5, or ENOSPC = 28 as NFS may report it): the
/// unrecoverable case, since the kernel may have dropped the dirty pages.
/// </summary>
public sealed class SmallDisk(IFileSystem inner, long capacityBytes) : IFileSystem
{
    /// <summary>Bytes the disk can hold; tests lower it to fill the disk and raise it to free space.</summary>
    public long CapacityBytes { get; set; } = capacityBytes;

    /// <summary>When set, every fsync (file or directory) fails with this errno.</summary>
    public int? FlushErrno { get; set; }

    private ValueTask FlushFailure() =>
        ValueTask.FromException(new IOException($"fsync failed with errno {FlushErrno} (simulated)", FlushErrno!.Value));

    /// <summary>Writes refused for lack of space so far.</summary>
    public int Refused { get; private set; }

    /// <summary>Bytes in use: the sum of the files' lengths.</summary>
    public long UsedBytes => inner.List().Sum(name =>
    {
        using var file = inner.Open(name, create: false);
        return file.Length;
    });

    /// <summary>Lowers the capacity to what is in use now plus <paramref name="headroomBytes"/>.</summary>
    public void FillUp(long headroomBytes = 0) => CapacityBytes = UsedBytes + headroomBytes;

    public IStorageFile Open(string name, bool create = true) => new File(inner.Open(name, create), this);
    public bool Exists(string name) => inner.Exists(name);
    public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);
    public void Delete(string name) => inner.Delete(name);
    public void Rename(string from, string to) => inner.Rename(from, to);

    public ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default) =>
        FlushErrno is null ? inner.SyncDirectoryAsync(cancellationToken) : FlushFailure();

    private void Reserve(string name, long growth)
    {
        if (growth <= 0 || UsedBytes + growth <= CapacityBytes) return;
        Refused++;
        throw DiskFull.Exception(name);
    }

    private sealed class File(IStorageFile inner, SmallDisk disk) : IStorageFile
    {
        public string Name => inner.Name;
        public long Length => inner.Length;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            try { disk.Reserve(Name, offset + data.Length - inner.Length); }
            catch (IOException e) { return ValueTask.FromException(e); }
            return inner.WriteAsync(offset, data, cancellationToken);
        }

        public void SetLength(long length)
        {
            disk.Reserve(Name, length - inner.Length);
            inner.SetLength(length);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) =>
            disk.FlushErrno is null ? inner.FlushAsync(cancellationToken) : disk.FlushFailure();

        public void Dispose() => inner.Dispose();
    }
}
