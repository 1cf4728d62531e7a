using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>How one <see cref="RaftNode"/> runs. Times are ticks of <see cref="TickInterval"/>.</summary>
public sealed record RaftNodeOptions
{
    /// <summary>Names the group: service <c>raft.&lt;GroupId&gt;</c> on the router, files under <c>raft/&lt;GroupId&gt;/</c>.</summary>
    public required string GroupId { get; init; }

    /// <summary>The group's bootstrap voters: the same list on every member, including members added later.</summary>
    public required IReadOnlyList<NodeId> Voters { get; init; }

    /// <summary>This node joins a running group (it need not be among <see cref="Voters"/>): it waits, neither voting
    /// nor campaigning, until the leader replicates to it the change that made it a learner or voter.</summary>
    public bool Join { get; init; }

    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Election timeout is random in [ElectionTicks, 2*ElectionTicks) ticks: 400–800 ms by default.</summary>
    public int ElectionTicks { get; init; } = 40;

    /// <summary>10 ticks = 100 ms: ten heartbeats per second per follower, the most allowed.</summary>
    public int HeartbeatTicks { get; init; } = 10;

    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    public int MaxInflightMessages { get; init; } = 64;
    public int MaxAppendBytes { get; init; } = 1 << 20;
    public int SnapshotChunkBytes { get; init; } = 256 << 10;
    public int MaxUncommittedEntries { get; init; } = 10_000;

    /// <summary>Lease-based reads on the leader (<see cref="RaftConfig.LeaseReads"/>): needs <see cref="CheckQuorum"/>.</summary>
    public bool LeaseReads { get; init; }

    /// <summary>The clock drift bound the lease is shortened by (<see cref="RaftConfig.MaxClockDrift"/>).</summary>
    public TimeSpan MaxClockDrift { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Followers serve ReadIndex by asking the leader (<see cref="RaftConfig.FollowerReads"/>).</summary>
    public bool FollowerReads { get; init; }

    /// <summary>Mutation testing only: see <see cref="RaftConfig.MutationTickBasedLease"/>.</summary>
    internal bool MutationTickBasedLease { get; init; }

    /// <summary>Layout of the group's write-ahead log (the directory is set by the node); null for the defaults.</summary>
    public Flotilla.Wal.WalOptions? Wal { get; init; }

    /// <summary>Apply messages buffered for the service before the node waits for it to catch up.</summary>
    public int ApplyQueueCapacity { get; init; } = 10_000;

    /// <summary>Smallest allowed heartbeat period: at most ten heartbeats per second per peer.</summary>
    public static readonly TimeSpan MinHeartbeatPeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>Mutation testing only: see <see cref="RaftConfig.MutationCommitEarlierTerms"/>.</summary>
    internal bool MutationCommitEarlierTerms { get; init; }

    public string Service => $"raft.{GroupId}";
    public string StorageDirectory => $"raft/{GroupId}";

    public RaftConfig ToCoreConfig(NodeId self) => new()
    {
        Id = self, Voters = Voters, Join = Join, ElectionTicks = ElectionTicks, HeartbeatTicks = HeartbeatTicks, PreVote = PreVote,
        CheckQuorum = CheckQuorum, MaxInflightMessages = MaxInflightMessages, MaxAppendBytes = MaxAppendBytes,
        SnapshotChunkBytes = SnapshotChunkBytes, MaxUncommittedEntries = MaxUncommittedEntries,
        MutationCommitEarlierTerms = MutationCommitEarlierTerms,
        LeaseReads = LeaseReads, MaxClockDrift = MaxClockDrift, TickDuration = TickInterval, FollowerReads = FollowerReads,
        MutationTickBasedLease = MutationTickBasedLease,
    };

    public void Validate(NodeId self)
    {
        if (string.IsNullOrEmpty(GroupId) || GroupId.Contains('/')) throw new ArgumentException($"group id '{GroupId}' must be non-empty and contain no '/'");
        if (TickInterval <= TimeSpan.Zero) throw new ArgumentException("TickInterval must be positive");
        if (TickInterval * HeartbeatTicks < MinHeartbeatPeriod)
            throw new ArgumentException($"heartbeat period {TickInterval * HeartbeatTicks} is below {MinHeartbeatPeriod} (at most 10 heartbeats per second)");
        if (ApplyQueueCapacity < 1) throw new ArgumentException("ApplyQueueCapacity must be positive");
        ToCoreConfig(self).Validate();
    }
}
