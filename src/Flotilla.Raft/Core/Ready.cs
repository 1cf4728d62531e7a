namespace Flotilla.Raft;

/// <summary>
/// A batch of work the core hands to its driver. The driver must, in order:
/// <list type="number">
/// <item>send <see cref="MessagesNow"/> (leader replication, safe to overlap with its own fsync);</item>
/// <item>persist <see cref="Snapshot"/> (replacing the log), <see cref="Entries"/> (overwriting any suffix from the
/// first one's index) and <see cref="HardState"/>, and make them durable;</item>
/// <item>send <see cref="MessagesAfterPersist"/> (votes, append acks: promises that need the data on disk);</item>
/// <item>hand <see cref="Snapshot"/> then <see cref="CommittedEntries"/> to the state machine, and deliver <see cref="ReadStates"/>;</item>
/// <item>call <see cref="RaftCore.Advance"/>.</item>
/// </list>
/// </summary>
public sealed class Ready
{
    public HardState? HardState { get; init; }
    public IReadOnlyList<LogEntry> Entries { get; init; } = [];
    public RaftSnapshot? Snapshot { get; init; }
    public IReadOnlyList<Message> MessagesNow { get; init; } = [];
    public IReadOnlyList<Message> MessagesAfterPersist { get; init; } = [];
    public IReadOnlyList<LogEntry> CommittedEntries { get; init; } = [];
    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    public bool MustPersist => HardState is not null || Entries.Count > 0 || Snapshot is not null;

    public IEnumerable<Message> AllMessages => MessagesNow.Concat(MessagesAfterPersist);
}
