using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>What an entry carries: a command for the state machine, the no-op a new leader appends so it can
/// commit an entry of its own term (§5.4.2) and so serve reads, or a membership change (<see cref="ConfChange"/>,
/// encoded by <see cref="ConfChangeCodec"/>), which takes effect when the driver applies it after commit.</summary>
public enum EntryKind : byte
{
    Normal = 1,
    Noop = 2,
    ConfChange = 3,
}

/// <summary>One log entry. <c>Index</c> and <c>Term</c> are Raft log coordinates (1-based index; term 0 is "none").</summary>
public readonly record struct LogEntry(ulong Index, ulong Term, EntryKind Kind, ReadOnlyMemory<byte> Data)
{
    /// <summary>Approximate wire and memory size, used for batching limits.</summary>
    public int SizeBytes => Data.Length + 24;

    public override string ToString() => $"{Index}@{Term}{Kind switch { EntryKind.Noop => " noop", EntryKind.ConfChange => " confchange", _ => $" {Data.Length}B" }}";
}

/// <summary>The state that must be durable before the node answers anyone (Figure 2 "persistent state"),
/// plus the commit index (not required by the paper, kept so a restart re-applies less).</summary>
public readonly record struct HardState(ulong Term, NodeId? VotedFor, ulong Commit)
{
    public static HardState Empty => new(0, null, 0);
}

/// <summary>Where a snapshot sits in the log, and the membership in force at that index (applied up to it).</summary>
public sealed record SnapshotMeta(ulong Index, ulong Term, MembershipConfig Membership)
{
    /// <summary>A snapshot of a plain group of voters (no change in progress, no learners).</summary>
    public SnapshotMeta(ulong index, ulong term, IReadOnlyList<NodeId> voters) : this(index, term, MembershipConfig.FromVoters(voters)) { }

    /// <summary>The incoming voters, sorted (all the voters outside a membership change).</summary>
    public IReadOnlyList<NodeId> Voters => Membership.Voters.Incoming.Ids;
}

/// <summary>A chunk of a snapshot received from the leader, in order from offset 0, for the driver to write to storage
/// (<see cref="IRaftStorage.WriteReceivedSnapshotChunkAsync"/>) before it acknowledges it.</summary>
public sealed record SnapshotChunk(SnapshotMeta Meta, ulong Offset, ReadOnlyMemory<byte> Data, bool Done);

/// <summary>A state-machine snapshot: every entry up to <c>Meta.Index</c> folded into <c>Data</c>.</summary>
public sealed record RaftSnapshot(SnapshotMeta Meta, ReadOnlyMemory<byte> Data)
{
    public ulong Index => Meta.Index;
    public ulong Term => Meta.Term;
}

/// <summary>The answer to a <see cref="RaftCore.ReadIndex"/> request: once the state machine has applied
/// <c>Index</c>, a read issued at request time can be served linearizably. <c>Ok</c> is false when leadership was lost
/// before the read could be confirmed; the caller should retry on the new leader.</summary>
public readonly record struct ReadState(ulong RequestId, ulong Index, bool Ok);

public enum RaftRole : byte
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

public enum ProposeStatus : byte
{
    /// <summary>Appended to the leader's log at (Index, Term); it commits unless leadership is lost first.</summary>
    Accepted,
    /// <summary>This node is not the leader; <c>LeaderHint</c> names the leader it knows of, if any.</summary>
    NotLeader,
    /// <summary>The leader refuses for now: a leadership transfer is in progress or too many entries are uncommitted.</summary>
    Busy,
    /// <summary>A membership change the leader refuses: <c>Error</c> says why (another change is pending, the change is
    /// invalid against the current membership). Nothing was appended.</summary>
    Refused,
}

public readonly record struct ProposeResult(ProposeStatus Status, ulong Index, ulong Term, NodeId? LeaderHint)
{
    /// <summary>Why a membership change was <see cref="ProposeStatus.Refused"/> (one line), else null.</summary>
    public string? Error { get; init; }
    public bool IsAccepted => Status == ProposeStatus.Accepted;
    public static ProposeResult Accepted(ulong index, ulong term) => new(ProposeStatus.Accepted, index, term, null);
    public static ProposeResult NotLeader(NodeId? leader) => new(ProposeStatus.NotLeader, 0, 0, leader);
    public static ProposeResult Busy(NodeId? leader) => new(ProposeStatus.Busy, 0, 0, leader);
    public static ProposeResult Refused(NodeId? leader, string error) => new(ProposeStatus.Refused, 0, 0, leader) { Error = error };
}

/// <summary>What a node recovered from its storage at start.</summary>
public sealed record RaftPersistentState(HardState HardState, RaftSnapshot? Snapshot, IReadOnlyList<LogEntry> Entries)
{
    public static RaftPersistentState Empty { get; } = new(HardState.Empty, null, []);
}
