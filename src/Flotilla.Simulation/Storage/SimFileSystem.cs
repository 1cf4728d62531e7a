using Flotilla.Runtime.Storage;

namespace Flotilla.Simulation.Storage;

/// <summary>
/// An in-memory file system with the crash semantics of a real disk under a POSIX file system:
/// <list type="bullet">
/// <item>file data (writes, SetLength) is durable only after <see cref="IStorageFile.FlushAsync"/>;</item>
/// <item>creates, renames and deletes are durable only after <see cref="SyncDirectoryAsync"/>.</item>
/// </list>
/// <see cref="Crash"/> simulates a power loss: of the operations not yet durable, a random prefix survives and the
/// last survivor may be torn (only part of its bytes reached the disk). Code that forgets an fsync loses data in tests.
/// <para>Standalone, every operation completes at once. Attached to a <see cref="Simulator"/> node, fsyncs take
/// virtual time (<see cref="FlushDelay"/>), and a crash in the middle of one means it never happened.</para>
/// <para>Simplification (documented): there is one directory-sync scope for the whole file system; syncing any
/// directory makes every pending create/rename/delete durable.</para>
/// </summary>
public sealed class SimFileSystem : IFileSystem
{
    private readonly Dictionary<string, Inode> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Inode> _durable = new(StringComparer.Ordinal);
    private readonly List<MetaOp> _pendingMeta = [];

    /// <summary>How long an fsync takes; null completes at once. Set by the simulator for its nodes.</summary>
    public Func<CancellationToken, ValueTask>? FlushDelay { get; set; }

    /// <summary>Number of completed file fsyncs (for group-commit assertions).</summary>
    public long FlushCount { get; private set; }

    /// <summary>Number of completed directory fsyncs.</summary>
    public long DirectorySyncCount { get; private set; }

    /// <summary>Bytes held by all current files.</summary>
    public long TotalBytes => _current.Values.Distinct().Sum(i => i.Length);

    public IStorageFile Open(string name, bool create = true)
    {
        Validate(name);
        if (!_current.TryGetValue(name, out var inode))
        {
            if (!create) throw new FileNotFoundException($"{name}: no such file", name);
            inode = new Inode();
            _current[name] = inode;
            _pendingMeta.Add(new MetaOp(MetaKind.Create, name, null, inode));
        }
        return new SimFile(this, name, inode);
    }

    public bool Exists(string name) => _current.ContainsKey(name);

    public IReadOnlyList<string> List(string prefix = "") =>
        _current.Keys.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    public void Delete(string name)
    {
        if (_current.Remove(name)) _pendingMeta.Add(new MetaOp(MetaKind.Delete, name, null, null));
    }

    public void Rename(string from, string to)
    {
        Validate(to);
        if (!_current.Remove(from, out var inode)) throw new FileNotFoundException($"{from}: no such file", from);
        _current[to] = inode;
        _pendingMeta.Add(new MetaOp(MetaKind.Rename, from, to, inode));
    }

    public async ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default)
    {
        var upTo = _pendingMeta.Count;
        if (FlushDelay is { } delay) await delay(cancellationToken);
        // Operations that arrived while the sync was in flight stay pending: only what preceded the call is promised.
        ApplyMeta(upTo);
        DirectorySyncCount++;
    }

    /// <summary>
    /// Simulates a power loss: every file and directory entry reverts to what is durable, plus a random prefix of
    /// the operations that were not, the last of which may be torn.
    /// </summary>
    public void Crash(Random random)
    {
        ApplyMeta(random.Next(_pendingMeta.Count + 1));
        _pendingMeta.Clear();
        _current.Clear();
        foreach (var (name, inode) in _durable) _current[name] = inode;
        foreach (var inode in _durable.Values.Distinct()) inode.Crash(random);
        // Files that were never durably linked are gone with their data.
    }

    /// <summary>Flips bits of one durable byte: simulates media corruption for tests of checksums.</summary>
    public void Corrupt(string name, long offset, byte xorMask = 0xFF)
    {
        if (!_current.TryGetValue(name, out var inode)) throw new FileNotFoundException(name);
        inode.Corrupt(offset, xorMask);
    }

    private void ApplyMeta(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var op = _pendingMeta[i];
            switch (op.Kind)
            {
                case MetaKind.Create: _durable[op.Name] = op.Inode!; break;
                case MetaKind.Delete: _durable.Remove(op.Name); break;
                case MetaKind.Rename:
                    _durable.Remove(op.Name);
                    _durable[op.To!] = op.Inode!;
                    break;
            }
        }
        _pendingMeta.RemoveRange(0, count);
    }

    private static void Validate(string name)
    {
        if (string.IsNullOrEmpty(name) || name.StartsWith('/') || name.Split('/').Any(p => p is "" or "." or ".."))
            throw new ArgumentException($"'{name}' is not a relative file name", nameof(name));
    }

    private enum MetaKind { Create, Delete, Rename }

    private sealed record MetaOp(MetaKind Kind, string Name, string? To, Inode? Inode);

    private sealed class SimFile(SimFileSystem fs, string name, Inode inode) : IStorageFile
    {
        private bool _disposed;

        public string Name => name;

        public long Length => inode.Length;

        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ThrowIfDisposed();
            return ValueTask.FromResult(inode.Read(offset, buffer.Span));
        }

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            ThrowIfDisposed();
            inode.Write(offset, data.Span);
            return ValueTask.CompletedTask;
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            ThrowIfDisposed();
            var upTo = inode.PendingCount;
            if (fs.FlushDelay is { } delay) await delay(cancellationToken);
            inode.MakeDurable(upTo);
            fs.FlushCount++;
        }

        public void SetLength(long length)
        {
            ThrowIfDisposed();
            inode.SetLength(length);
        }

        public void Dispose() => _disposed = true;

        private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
    }
}
