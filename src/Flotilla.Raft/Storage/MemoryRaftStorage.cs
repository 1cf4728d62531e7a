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

    public long SizeBytes =>
        _durable.Entries.Sum(e => (long)e.SizeBytes) + (_durable.Snapshot?.Data.Length ?? 0) + 32;

    /// <summary>Forgets everything not synced, as a power loss would.</summary>
    public void CrashAndRecover() => _pending = _durable.Copy();
}
