namespace Flotilla.Raft;

/// <summary>
/// Storage in memory, for core unit tests and the simulator's crash model: only what was synced survives
/// <see cref="CrashAndRecover"/>, so a driver that forgets to sync loses data in tests as it would on disk.
/// </summary>
public sealed class MemoryRaftStorage : IRaftStorage
{
    private sealed record State(HardState HardState, RaftSnapshot? Snapshot, List<LogEntry> Entries)
    {
        public State Copy() => this with { Entries = [.. Entries] };
    }

    private State _pending = new(HardState.Empty, null, []);
    private State _durable = new(HardState.Empty, null, []);
    private (SnapshotMeta Meta, MemoryStream Data)? _received;

    public int SyncCount { get; private set; }

    public ValueTask<RaftPersistentState> LoadAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new RaftPersistentState(_durable.HardState, _durable.Snapshot, _durable.Entries.ToList()));

    public ValueTask AppendAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken = default)
    {
        foreach (var e in entries)
        {
            var first = _pending.Snapshot?.Index + 1 ?? 1;
            if (e.Index < first) continue;
            var position = (int)(e.Index - first);
            if (position > _pending.Entries.Count) throw new InvalidOperationException($"append at {e.Index} leaves a gap");
            if (position < _pending.Entries.Count) _pending.Entries.RemoveRange(position, _pending.Entries.Count - position);
            _pending.Entries.Add(e);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask SaveHardStateAsync(HardState state, CancellationToken cancellationToken = default)
    {
        _pending = _pending with { HardState = state };
        return ValueTask.CompletedTask;
    }

    public ValueTask SaveSnapshotAsync(RaftSnapshot snapshot, bool discardLog, CancellationToken cancellationToken = default)
    {
        if (_pending.Snapshot is { } old && old.Index >= snapshot.Index && !discardLog) return ValueTask.CompletedTask;
        var entries = discardLog ? [] : _pending.Entries.Where(e => e.Index > snapshot.Index).ToList();
        _pending = new State(_pending.HardState, snapshot, entries);
        // A snapshot is written atomically and durably on its own (a file rename in real storage).
        _durable = new State(_durable.HardState, snapshot, discardLog ? [] : _durable.Entries.Where(e => e.Index > snapshot.Index).ToList());
        return ValueTask.CompletedTask;
    }

    public ValueTask SyncAsync(CancellationToken cancellationToken = default)
    {
        _durable = _pending.Copy();
        SyncCount++;
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> ReadSnapshotDataAsync(ulong index, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pending.Snapshot is not { } snapshot || snapshot.Index != index || offset > snapshot.Data.Length) return ValueTask.FromResult(0);
        var n = (int)Math.Min(buffer.Length, snapshot.Data.Length - offset);
        snapshot.Data.Slice((int)offset, n).CopyTo(buffer);
        return ValueTask.FromResult(n);
    }

    public ValueTask WriteReceivedSnapshotChunkAsync(SnapshotMeta meta, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (_received is null && _pending.Snapshot?.Index == meta.Index) return ValueTask.CompletedTask; // a retried batch, installed already
        if (offset == 0 || _received is not { } r || r.Meta != meta) _received = (meta, new MemoryStream());
        var stream = _received.Value.Data;
        if (offset > stream.Length) throw new InvalidOperationException($"snapshot chunk at {offset} leaves a gap after {stream.Length} bytes");
        stream.SetLength(offset);
        stream.Position = offset;
        stream.Write(data.Span);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<RaftSnapshot> InstallReceivedSnapshotAsync(SnapshotMeta meta, CancellationToken cancellationToken = default)
    {
        if (_received is not { } r || r.Meta != meta)
        {
            if (_pending.Snapshot is { } installed && installed.Index == meta.Index) return installed; // a retried batch
            throw new InvalidOperationException($"no snapshot at {meta.Index} was received");
        }
        var snapshot = new RaftSnapshot(meta, r.Data.ToArray());
        _received = null;
        await SaveSnapshotAsync(snapshot, discardLog: true, cancellationToken);
        return snapshot;
    }

    public ValueTask<SnapshotWriter> BeginSnapshotAsync(SnapshotMeta meta, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<SnapshotWriter>(new MemorySnapshotWriter(meta));

    public async ValueTask<long?> CommitSnapshotAsync(SnapshotWriter writer, CancellationToken cancellationToken = default)
    {
        var w = (MemorySnapshotWriter)writer;
        if (!w.IsSealed) throw new InvalidOperationException($"the snapshot at {w.Meta.Index} is not sealed");
        if (_pending.Snapshot is { } old && old.Index >= w.Meta.Index) return null;
        var snapshot = new RaftSnapshot(w.Meta, w.Bytes.ToArray());
        await SaveSnapshotAsync(snapshot, discardLog: false, cancellationToken);
        return snapshot.Length;
    }

    private sealed class MemorySnapshotWriter(SnapshotMeta meta) : SnapshotWriter(meta)
    {
        public MemoryStream Bytes { get; } = new();
        public bool IsSealed { get; private set; }
        public override Stream Data => Bytes;

        public override ValueTask SealAsync(CancellationToken cancellationToken = default)
        {
            IsSealed = true;
            return ValueTask.CompletedTask;
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public long SizeBytes =>
        _durable.Entries.Sum(e => (long)e.SizeBytes) + (_durable.Snapshot?.Length ?? 0) + 32;

    /// <summary>Forgets everything not synced, as a power loss would.</summary>
    public void CrashAndRecover() => _pending = _durable.Copy();
}
