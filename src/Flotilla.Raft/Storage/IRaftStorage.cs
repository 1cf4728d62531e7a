namespace Flotilla.Raft;

/// <summary>
/// What the driver needs from durable storage. Writes may be buffered; everything written before an awaited
/// <see cref="SyncAsync"/> is durable when it completes. The driver calls these from one logical thread, never concurrently.
/// </summary>
public interface IRaftStorage
{
    /// <summary>Recovers hard state, the latest snapshot (metadata and data) and the entries after it.</summary>
    ValueTask<RaftPersistentState> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Appends entries; an entry at an index already stored replaces it and everything after it.</summary>
    ValueTask AppendAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken = default);

    ValueTask SaveHardStateAsync(HardState state, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a snapshot durably (it survives a crash once this completes). With <paramref name="discardLog"/> (a
    /// snapshot received from the leader) the whole log is replaced by it; otherwise (the service's own snapshot) only
    /// entries up to its index are dropped.
    /// </summary>
    ValueTask SaveSnapshotAsync(RaftSnapshot snapshot, bool discardLog, CancellationToken cancellationToken = default);

    ValueTask SyncAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a snapshot of the service's state at <paramref name="meta"/>, written as a stream. Writing and
    /// sealing it may overlap with the other calls (it touches only its own temporary file); one at a time.</summary>
    ValueTask<SnapshotWriter> BeginSnapshotAsync(SnapshotMeta meta, CancellationToken cancellationToken = default);

    /// <summary>Makes a sealed <paramref name="writer"/>'s snapshot this group's snapshot, durably, and drops the entries
    /// it covers (as <see cref="SaveSnapshotAsync"/> for the service's own snapshot); returns the bytes of its data, or
    /// null when the stored snapshot is already as new. A writer not committed (that case, or a failure) is discarded
    /// when the caller disposes it.</summary>
    ValueTask<long?> CommitSnapshotAsync(SnapshotWriter writer, CancellationToken cancellationToken = default);

    /// <summary>Reads the service data of the stored snapshot at <paramref name="index"/> (what a leader sends a follower
    /// that fell behind), from <paramref name="offset"/> into <paramref name="buffer"/>; returns the bytes read, fewer
    /// only at the end, and 0 when the stored snapshot is not at <paramref name="index"/> (a newer one replaced it).</summary>
    ValueTask<int> ReadSnapshotDataAsync(ulong index, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Stores a chunk of a snapshot being received from the leader. Chunks come in order; offset 0 (or another
    /// snapshot's <paramref name="meta"/>) starts a new one, and a chunk at an offset already written rewrites it (a
    /// retried batch). Nothing needs to be durable before <see cref="InstallReceivedSnapshotAsync"/>: a node that crashes
    /// mid-transfer asks the leader to start over.</summary>
    ValueTask WriteReceivedSnapshotChunkAsync(SnapshotMeta meta, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Makes the snapshot whose chunks were received this group's snapshot, durably, replacing the whole log (as
    /// <see cref="SaveSnapshotAsync"/> with discardLog), and returns it for the state machine.</summary>
    ValueTask<RaftSnapshot> InstallReceivedSnapshotAsync(SnapshotMeta meta, CancellationToken cancellationToken = default);

    /// <summary>Bytes this group occupies on disk (log, state and snapshot).</summary>
    long SizeBytes { get; }

    /// <summary>Why the storage should not be given new writes now ("disk full (PATH): ..."), null while it can take
    /// them. A write that failed for lack of space throws <see cref="Flotilla.Wal.WalDiskFullException"/>: nothing
    /// acknowledged is lost, and the driver retries it later.</summary>
    string? SpaceProblem => null;

    /// <summary>While <see cref="SpaceProblem"/> is set: looks for space again (and rebuilds whatever reserve the
    /// storage keeps). The driver calls it now and then, never concurrently with the other calls; it does not throw
    /// for lack of space.</summary>
    ValueTask ProbeSpaceAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
