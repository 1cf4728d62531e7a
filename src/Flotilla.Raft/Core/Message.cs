using Flotilla.Runtime;

namespace Flotilla.Raft;

public enum MessageType : byte
{
    PreVote = 1,
    PreVoteResponse = 2,
    Vote = 3,
    VoteResponse = 4,
    Append = 5,
    AppendResponse = 6,
    Heartbeat = 7,
    HeartbeatResponse = 8,
    /// <summary>One chunk of an InstallSnapshot transfer (offset, data, done).</summary>
    Snapshot = 9,
    SnapshotResponse = 10,
    /// <summary>Leadership transfer: "start an election now, ignoring leases".</summary>
    TimeoutNow = 11,
    /// <summary>Follower read: "give me a read index" (Context = the follower's request id).</summary>
    ReadIndex = 12,
    /// <summary>The leader's answer to <see cref="ReadIndex"/>: Context = the request id, Index = the read index,
    /// Reject = no index (not leader any more, too many reads waiting).</summary>
    ReadIndexResponse = 13,
}

/// <summary>
/// One Raft message. A flat shape (like etcd's raftpb.Message): each type uses the fields it needs.
/// <list type="bullet">
/// <item>Vote/PreVote: Index/LogTerm = candidate's last log position; Force = leadership transfer.</item>
/// <item>Append: Index/LogTerm = prevLogIndex/prevLogTerm; Entries; Commit = leaderCommit.</item>
/// <item>AppendResponse: Index = last index now matching (success), or the rejected prevLogIndex; on reject
/// LogTerm = the follower's term at that index (0 if its log is shorter) and RejectHint = the first index the
/// follower holds of that term (or its last index + 1): the fast-backup hints.</item>
/// <item>Heartbeat/HeartbeatResponse: Commit; Context = the ReadIndex request the round confirms (0 = none);
/// Round = the leader's lease round, echoed in the response (0 = lease reads off).</item>
/// <item>ReadIndex/ReadIndexResponse (follower reads): Context = the follower's request id; Index = the read index.</item>
/// <item>Snapshot: SnapshotMeta, SnapshotOffset, SnapshotData, SnapshotDone. SnapshotResponse: Index = snapshot
/// index, SnapshotOffset = bytes the follower holds so far.</item>
/// </list>
/// </summary>
public sealed record Message
{
    public required MessageType Type { get; init; }
    public required NodeId From { get; init; }
    public required NodeId To { get; init; }
    public ulong Term { get; init; }
    public ulong LogTerm { get; init; }
    public ulong Index { get; init; }
    public ulong Commit { get; init; }
    public bool Reject { get; init; }
    public ulong RejectHint { get; init; }
    public bool Force { get; init; }
    public ulong Context { get; init; }
    public ulong Round { get; init; }
    public IReadOnlyList<LogEntry> Entries { get; init; } = [];
    public SnapshotMeta? SnapshotMeta { get; init; }
    public ulong SnapshotOffset { get; init; }
    public ReadOnlyMemory<byte> SnapshotData { get; init; }
    public bool SnapshotDone { get; init; }

    /// <summary>A chunk the core sends (never on the wire): how many bytes of the snapshot at
    /// <see cref="SnapshotOffset"/> the driver reads from storage into <see cref="SnapshotData"/> before sending it
    /// (<see cref="SnapshotChunks.FillAsync"/>). The core never holds snapshot bytes itself.</summary>
    public int SnapshotLength { get; init; }

    /// <summary>Messages a leader sends about its own log: they depend on nothing the leader has yet to persist
    /// (its term was made durable when it campaigned), so they may go out in parallel with its fsync.</summary>
    public bool IsLeaderReplication => Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot or MessageType.TimeoutNow;

    public override string ToString() =>
        $"{Type} {From}->{To} t{Term} i{Index} lt{LogTerm} c{Commit}{(Reject ? $" REJECT hint{RejectHint}" : "")}" +
        $"{(Entries.Count > 0 ? $" [{Entries[0].Index}..{Entries[^1].Index}]" : "")}{(Context != 0 ? $" ctx{Context}" : "")}{(Round != 0 ? $" round{Round}" : "")}" +
        $"{(SnapshotMeta is null ? "" : $" snap{SnapshotMeta.Index}@{SnapshotMeta.Term} off{SnapshotOffset} len{SnapshotData.Length}{(SnapshotDone ? " done" : "")}")}";
}
