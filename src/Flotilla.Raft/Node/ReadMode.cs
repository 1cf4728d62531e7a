namespace Flotilla.Raft;

/// <summary>Where a service built on the node answers linearizable reads (docs/raft.md "Reads").</summary>
public enum ReadMode
{
    /// <summary>ReadIndex on the leader, confirmed by a heartbeat round per batch of reads (the safe default: no
    /// assumption about clocks).</summary>
    Leader,

    /// <summary>The leader answers from its commit index while it holds a lease, with no round; assumes bounded clock
    /// drift (<see cref="RaftNodeOptions.MaxClockDrift"/>) and timers that never fire early.</summary>
    Lease,

    /// <summary>Any member: a follower asks the leader for its read index (the leader confirms with a heartbeat round),
    /// waits until it applied that index and serves locally. No clock assumption.</summary>
    Follower,
}

public static class ReadModes
{
    /// <summary>The options that give <paramref name="mode"/>.</summary>
    public static RaftNodeOptions WithReads(this RaftNodeOptions options, ReadMode mode) =>
        options with { LeaseReads = mode == ReadMode.Lease, FollowerReads = mode == ReadMode.Follower };

    /// <summary>Parses "leader", "lease" or "follower" (the CLI's <c>--reads</c>); null if it is none of them.</summary>
    public static ReadMode? Parse(string text) => text.ToLowerInvariant() switch
    {
        "leader" => ReadMode.Leader,
        "lease" => ReadMode.Lease,
        "follower" => ReadMode.Follower,
        _ => null,
    };

    public static string Name(this ReadMode mode) => mode.ToString().ToLowerInvariant();
}
