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

/// <summary>A state-machine snapshot: every entry up to <c>Meta.Index</c> folded into the service's data — in
/// <c>Data</c>, or, for a snapshot storage keeps on disk (<see cref="Open"/> set, <c>Data</c> empty), in a file read
/// as a stream, so a state larger than memory can hold twice is never loaded whole.</summary>
public sealed record RaftSnapshot(SnapshotMeta Meta, ReadOnlyMemory<byte> Data)
{
    public ulong Index => Meta.Index;
    public ulong Term => Meta.Term;

    /// <summary>Bytes of the service's data, wherever it lives.</summary>
    public long Length { get; init; } = Data.Length;

    /// <summary>Opens the data where storage keeps it; null when <c>Data</c> holds it.</summary>
    public Func<CancellationToken, ValueTask<Stream>>? Open { get; init; }

    /// <summary>The service's data as a stream (the caller disposes it).</summary>
    public ValueTask<Stream> OpenDataAsync(CancellationToken cancellationToken = default) =>
        Open?.Invoke(cancellationToken) ?? ValueTask.FromResult<Stream>(
            System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Data, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(Data.ToArray(), writable: false));

    /// <summary>The data as one array: for services that restore from bytes (reads the stream when on disk).</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        if (Open is null) return Data;
        if (Length > Array.MaxLength) throw new InvalidOperationException($"a {Length}-byte snapshot does not fit in one array; restore it from the stream");
        var data = new byte[Length];
        await using var stream = await Open(cancellationToken);
        await stream.ReadExactlyAsync(data, cancellationToken);
        return data;
    }
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
