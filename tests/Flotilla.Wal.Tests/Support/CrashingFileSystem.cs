using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;

namespace Flotilla.Wal.Tests.Support;

/// <summary>Thrown in place of the I/O operation during which the simulated power failed.</summary>
public sealed class PowerLossException() : IOException("simulated power loss");

/// <summary>
/// Wraps a <see cref="SimFileSystem"/> and cuts the power just before the N-th mutating operation (write,
/// SetLength, fsync, create, delete, rename, directory sync): the simulated disk crashes and the operation throws.
/// Lets a test crash a WAL in the middle of a batch, a rotation, a compaction or a recovery.
/// </summary>
public sealed class CrashingFileSystem(SimFileSystem inner, Random random) : IFileSystem
{
    private long _operations;

    /// <summary>Operation number at which the power fails (1-based); 0 = never.</summary>
    public long CrashAt { get; set; }

    public bool Crashed { get; private set; }

    /// <summary>Mutating operations seen so far (the next one is number Operations + 1).</summary>
    public long Operations => _operations;

    private void Tick()
    {
        if (Crashed) throw new PowerLossException();
        if (++_operations < CrashAt || CrashAt <= 0) return;
        Crashed = true;
        inner.Crash(random);
        throw new PowerLossException();
    }

    public IStorageFile Open(string name, bool create = true)
    {
        if (create && !inner.Exists(name)) Tick();
        return new File(this, inner.Open(name, create));
    }

    public bool Exists(string name) => inner.Exists(name);
    public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);

    public void Delete(string name)
    {
        Tick();
        inner.Delete(name);
    }

    public void Rename(string from, string to)
    {
        Tick();
        inner.Rename(from, to);
    }

    public ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default)
    {
        Tick();
        return inner.SyncDirectoryAsync(cancellationToken);
    }

    private sealed class File(CrashingFileSystem fs, IStorageFile inner) : IStorageFile
    {
        public string Name => inner.Name;
        public long Length => inner.Length;
        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            fs.Tick();
            return inner.WriteAsync(offset, data, cancellationToken);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            fs.Tick();
            return inner.FlushAsync(cancellationToken);
        }

        public void SetLength(long length)
        {
            fs.Tick();
            inner.SetLength(length);
        }

        public void Dispose() => inner.Dispose();
    }
}
