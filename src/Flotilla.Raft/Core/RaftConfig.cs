using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>Configuration of one Raft core. Time is in ticks; the driver decides how long a tick is.
/// Call <see cref="Validate"/> (the core does) so a bad configuration fails at start, not during an outage.</summary>
public sealed record RaftConfig
{
    public required NodeId Id { get; init; }

    /// <summary>The group's bootstrap voters: its membership before any change (the same list on every member, including
    /// members added later, which replay the log from it). The current membership comes from the snapshot and the
    /// membership changes in the log (<see cref="RaftCore.Membership"/>).</summary>
    public required IReadOnlyList<NodeId> Voters { get; init; }

    /// <summary>This node joins a running group: it need not be among the bootstrap <see cref="Voters"/>. It neither
    /// campaigns nor votes for itself until a membership change makes it a voter.</summary>
    public bool Join { get; init; }

    /// <summary>A follower that hears nothing from a leader for a random time in [ElectionTicks, 2*ElectionTicks)
    /// starts an election. A leader with CheckQuorum steps down if it has not heard from a quorum in ElectionTicks.</summary>
    public int ElectionTicks { get; init; } = 40;

    /// <summary>Leader heartbeat period.</summary>
    public int HeartbeatTicks { get; init; } = 10;

    /// <summary>Run a pre-election first, so a node back from a partition cannot bump the term and depose a healthy leader.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>A leader steps down when it loses contact with a quorum; followers ignore votes while they have a live leader.</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Append messages in flight per follower in the replicate state (the pipelining window).</summary>
    public int MaxInflightMessages { get; init; } = 64;

    /// <summary>Bytes of entries per Append message (at least one entry is always sent).</summary>
    public int MaxAppendBytes { get; init; } = 1 << 20;

    /// <summary>Bytes of committed entries handed to the application per Ready (at least one).</summary>
    public int MaxApplyBytesPerReady { get; init; } = 4 << 20;

    /// <summary>Entries the leader accepts beyond its commit index before it answers Busy.</summary>
    public int MaxUncommittedEntries { get; init; } = 10_000;

    /// <summary>Bytes of snapshot data per InstallSnapshot chunk.</summary>
    public int SnapshotChunkBytes { get; init; } = 256 << 10;

    /// <summary>The largest snapshot a follower accepts (protects it from a corrupt or hostile offset).</summary>
    public long MaxSnapshotBytes { get; init; } = 1L << 31;

    /// <summary>ReadIndex requests waiting for confirmation at once.</summary>
    public int MaxPendingReads { get; init; } = 10_000;

    /// <summary>Mutation testing only (internal; set by the harness in <c>Testing/</c>, never by a service): breaks
    /// the Figure 8 rule, letting a leader commit an entry of an earlier term by counting replicas, so a test can
    /// prove the chaos checker notices (<c>RaftScenarios.NodeChaos</c>).</summary>
    internal bool MutationCommitEarlierTerms { get; init; }

    public int Quorum => Voters.Count / 2 + 1;

    public void Validate()
    {
        if (Voters.Count == 0) throw new ArgumentException("a Raft group needs at least one voter");
        if (Voters.Distinct().Count() != Voters.Count) throw new ArgumentException("voters must be distinct");
        if (HeartbeatTicks < 1) throw new ArgumentException("HeartbeatTicks must be at least 1");
        if (ElectionTicks <= HeartbeatTicks) throw new ArgumentException($"ElectionTicks ({ElectionTicks}) must exceed HeartbeatTicks ({HeartbeatTicks})");
        if (MaxInflightMessages < 1) throw new ArgumentException("MaxInflightMessages must be at least 1");
        if (MaxAppendBytes < 1 || MaxApplyBytesPerReady < 1) throw new ArgumentException("byte limits must be positive");
        if (MaxUncommittedEntries < 1 || MaxPendingReads < 1) throw new ArgumentException("queue limits must be positive");
        if (SnapshotChunkBytes < 1 || SnapshotChunkBytes > MessageCodec.MaxChunkBytes)
            throw new ArgumentException($"SnapshotChunkBytes must be in [1, {MessageCodec.MaxChunkBytes}]");
        if (MaxAppendBytes > MessageCodec.MaxMessageBytes / 2) throw new ArgumentException("MaxAppendBytes is too large for one message");
    }
}
