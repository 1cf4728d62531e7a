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

    /// <summary>Chunks a leader sends ahead of the follower's acknowledgement (a sliding window): the transfer runs at
    /// <c>SnapshotChunksInFlight × SnapshotChunkBytes</c> per round trip instead of one chunk, and never puts more than
    /// that on the wire for one follower at once.</summary>
    public int SnapshotChunksInFlight { get; init; } = 4;

    /// <summary>The largest snapshot a follower accepts (protects it from a corrupt or hostile offset). The bytes go
    /// to storage as they arrive, so this bounds disk, not memory.</summary>
    public long MaxSnapshotBytes { get; init; } = 1L << 40;

    /// <summary>ReadIndex requests waiting for confirmation at once.</summary>
    public int MaxPendingReads { get; init; } = 10_000;

    /// <summary>
    /// Lease-based reads on the leader (etcd's ReadOnlyLeaseBased): while a lease holds, <see cref="RaftCore.ReadIndex"/>
    /// answers at the leader's commit index with no confirmation round. The lease starts when the leader SENT a
    /// heartbeat round that a quorum later acknowledged and lasts <see cref="LeaseDuration"/>, measured on the
    /// monotonic clock given to the core (not in ticks: a paused process's ticks stand still while real time runs).
    /// Requires <see cref="CheckQuorum"/> (followers then refuse votes for an election timeout after hearing from the
    /// leader, which is what makes the lease hold) and a clock. Off by default. See docs/raft.md "Reads".
    /// </summary>
    public bool LeaseReads { get; init; }

    /// <summary>The real duration of one tick, as the driver runs them (only the lease needs it: it converts the
    /// minimum election timeout, <see cref="ElectionTicks"/> ticks, into time).</summary>
    public TimeSpan TickDuration { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The most the leader's clock may fall behind any follower's over one minimum election timeout (clock
    /// rate drift): the lease is shortened by this much. Must be below the minimum election timeout.</summary>
    public TimeSpan MaxClockDrift { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Followers answer <see cref="RaftCore.ReadIndex"/> too: they ask the leader for its read index
    /// (MessageType.ReadIndex) and hand it back as a ReadState; the service then serves the read once it applied that
    /// index. The leader confirms as for its own reads (a heartbeat round, or its lease).</summary>
    public bool FollowerReads { get; init; }

    /// <summary>How long a lease lasts from the moment its heartbeat round was sent: the minimum election timeout
    /// less the clock drift bound.</summary>
    public TimeSpan LeaseDuration => TickDuration * ElectionTicks - MaxClockDrift;

    /// <summary>Mutation testing only (internal): measure the lease in ticks instead of on the monotonic clock, the
    /// bug a paused process exposes (its ticks stop while time runs, so it serves stale reads after it resumes);
    /// <c>RaftScenarios</c>/<c>ReplicatedKvScenarios</c> show the paused-leader scenario catches it.</summary>
    internal bool MutationTickBasedLease { get; init; }

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
        if (SnapshotChunksInFlight < 1) throw new ArgumentException("SnapshotChunksInFlight must be at least 1");
        if (LeaseReads && !CheckQuorum)
            throw new ArgumentException("lease reads need CheckQuorum: without it a follower votes for a new leader while the old leader's lease still holds, so the old leader could serve stale reads");
        if (LeaseReads && TickDuration <= TimeSpan.Zero) throw new ArgumentException("TickDuration must be positive for lease reads");
        if (LeaseReads && (MaxClockDrift < TimeSpan.Zero || LeaseDuration <= TimeSpan.Zero))
            throw new ArgumentException($"MaxClockDrift ({MaxClockDrift.TotalMilliseconds} ms) must be at least 0 and below the minimum election timeout ({(TickDuration * ElectionTicks).TotalMilliseconds} ms), or the lease is empty");
        if (MaxAppendBytes > MessageCodec.MaxMessageBytes / 2) throw new ArgumentException("MaxAppendBytes is too large for one message");
    }
}
