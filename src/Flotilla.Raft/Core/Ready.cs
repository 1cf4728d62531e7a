namespace Flotilla.Raft;

/// <summary>
/// A batch of work the core hands to its driver. The driver must, in order:
/// <list type="number">
/// <item>send <see cref="MessagesNow"/> (leader replication, safe to overlap with its own fsync);</item>
/// <item>write <see cref="SnapshotChunks"/> to storage; persist <see cref="Snapshot"/> (the snapshot those chunks
/// completed, replacing the log: <see cref="IRaftStorage.InstallReceivedSnapshotAsync"/>), <see cref="Entries"/>
/// (overwriting any suffix from the first one's index) and <see cref="HardState"/>, and make them durable;</item>
/// <item>send <see cref="MessagesAfterPersist"/> (votes, append acks: promises that need the data on disk);</item>
/// <item>hand <see cref="Snapshot"/> then <see cref="CommittedEntries"/> to the state machine, and deliver <see cref="ReadStates"/>;</item>
/// <item>call <see cref="RaftCore.Advance"/>.</item>
/// </list>
/// </summary>
public sealed class Ready
{
    public HardState? HardState { get; init; }
    public IReadOnlyList<LogEntry> Entries { get; init; } = [];
    /// <summary>Chunks of a snapshot being received from the leader, in order; the last one of a finished transfer
    /// comes with <see cref="Snapshot"/>.</summary>
    public IReadOnlyList<SnapshotChunk> SnapshotChunks { get; init; } = [];

    /// <summary>A snapshot received from the leader (its bytes came in <see cref="SnapshotChunks"/>, this batch's and
    /// earlier ones'): install it in storage, replacing the log, then hand it to the state machine.</summary>
    public SnapshotMeta? Snapshot { get; init; }
    public IReadOnlyList<Message> MessagesNow { get; init; } = [];
    public IReadOnlyList<Message> MessagesAfterPersist { get; init; } = [];
    public IReadOnlyList<LogEntry> CommittedEntries { get; init; } = [];
    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    public bool MustPersist => HardState is not null || Entries.Count > 0 || Snapshot is not null || SnapshotChunks.Count > 0;

    public IEnumerable<Message> AllMessages => MessagesNow.Concat(MessagesAfterPersist);
}
