namespace Flotilla.Raft;

public enum ApplyKind : byte
{
    /// <summary>A committed command: apply <c>Data</c>.</summary>
    Command,
    /// <summary>A committed no-op (a new leader's first entry): nothing to apply, but the applied index moves.</summary>
    Noop,
    /// <summary>Replace the whole state with the snapshot in <c>Data</c>; it covers everything up to <c>Index</c>.</summary>
    Snapshot,
    /// <summary>A committed membership change, already applied to the Raft core by the node (<c>Data</c> is the
    /// <see cref="ConfChangeCodec"/> encoding): nothing to apply to the service, but the applied index moves.</summary>
    ConfChange,
}

/// <summary>One item of the ordered stream a <see cref="RaftNode"/> delivers to its state machine. Indexes strictly increase.</summary>
public readonly record struct ApplyMsg(ApplyKind Kind, ulong Index, ulong Term, ReadOnlyMemory<byte> Data)
{
    /// <summary>For <see cref="ApplyKind.Snapshot"/>: the snapshot, whose data may live in storage
    /// (<see cref="RaftSnapshot.OpenDataAsync"/>) rather than in <c>Data</c>.</summary>
    public RaftSnapshot? Snapshot { get; init; }

    public static ApplyMsg FromEntry(LogEntry e) =>
        new(e.Kind switch { EntryKind.Noop => ApplyKind.Noop, EntryKind.ConfChange => ApplyKind.ConfChange, _ => ApplyKind.Command }, e.Index, e.Term, e.Data);

    public static ApplyMsg FromSnapshot(RaftSnapshot s) => new(ApplyKind.Snapshot, s.Index, s.Term, s.Data) { Snapshot = s };
}

public enum ReadIndexStatus : byte
{
    /// <summary>Once the state machine applied <c>Index</c>, reads reflect every write completed before the request.</summary>
    Ok,
    NotLeader,
    /// <summary>Leadership could not be confirmed in time (partition, or the node stepped down meanwhile).</summary>
    Timeout,
}

public readonly record struct ReadIndexResult(ReadIndexStatus Status, ulong Index, Flotilla.Runtime.NodeId? LeaderHint)
{
    public bool IsOk => Status == ReadIndexStatus.Ok;
}
