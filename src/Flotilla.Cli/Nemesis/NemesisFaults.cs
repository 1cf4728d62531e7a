namespace Flotilla.Cli.Nemesis;

/// <summary>The fault families <c>--faults</c> names; each has several kinds the schedule picks from.</summary>
public enum FaultFamily
{
    Partition,
    Pause,
    Kill,
    Loss,
    Disk,
    /// <summary>Shard moves between replica groups (sharded store only, <c>--groups</c> 2 or more).</summary>
    Move,
}

public enum FaultKind
{
    /// <summary>One node cut off from every other node (clients still reach it).</summary>
    IsolateNode,
    /// <summary>The current leader cut off from every other node.</summary>
    IsolateLeader,
    /// <summary>A minority of nodes cut off from the majority.</summary>
    SplitMajority,
    /// <summary>Asymmetric: the other nodes drop what one node sends them; it still hears them.</summary>
    OneWayCut,
    /// <summary>Overlapping partition: two sides that cannot talk, and one bridge node that talks to both.</summary>
    BridgePartition,
    /// <summary>Random packet loss on the listed nodes (every packet they receive, clients' too).</summary>
    PacketLoss,
    /// <summary>SIGSTOP of the leader, SIGCONT at the end.</summary>
    PauseLeader,
    /// <summary>SIGSTOP of one node, SIGCONT at the end.</summary>
    PauseNode,
    /// <summary>kill -9 of one node, restarted on the same data directory at the end.</summary>
    KillNode,
    /// <summary>kill -9 of the leader, restarted on the same data directory at the end.</summary>
    KillLeader,
    /// <summary>kill -9 and restart of every node in turn, each waited for before the next.</summary>
    RollingRestart,
    /// <summary>One node restarted with every fsync slowed by <see cref="PlannedFault.Amount"/> ms.</summary>
    SlowFsync,
    /// <summary>One node restarted with <see cref="PlannedFault.Amount"/> percent of fsyncs failing.</summary>
    FailingFsync,
    /// <summary><see cref="PlannedFault.Amount"/> shards, drawn when the fault starts, each moved to another group
    /// through the controller; the migrations run on while later faults hit, and nothing is undone at the end.</summary>
    MoveShards,
}

/// <summary>One fault of the schedule: when it starts (from the start of the run), how long it lasts, what it is,
/// the nodes it targets (empty for "the leader", resolved when it is injected) and a size (loss or failure percent,
/// fsync delay in ms).</summary>
public sealed record PlannedFault(TimeSpan At, TimeSpan Duration, FaultKind Kind, IReadOnlyList<int> Nodes, int Amount = 0)
{
    public TimeSpan End => At + Duration;

    public bool TargetsLeader => Kind is FaultKind.IsolateLeader or FaultKind.PauseLeader or FaultKind.KillLeader;

    public string Describe(IReadOnlyList<int>? resolved = null)
    {
        var nodes = string.Join(",", (resolved ?? Nodes).Select(n => $"n{n}"));
        var what = Kind switch
        {
            FaultKind.PacketLoss => $"{Amount}% loss at {nodes}",
            FaultKind.SlowFsync => $"fsync +{Amount}ms at {nodes}",
            FaultKind.FailingFsync => $"{Amount}% fsync failures at {nodes}",
            FaultKind.RollingRestart => "all nodes in turn",
            FaultKind.MoveShards => $"{Amount} shard(s) to other groups",
            _ => nodes.Length == 0 ? "leader" : nodes,
        };
        return $"{Kind} ({what}) at {At.TotalSeconds:0.0}s for {Duration.TotalSeconds:0.0}s";
    }

    public static FaultFamily FamilyOf(FaultKind kind) => kind switch
    {
        FaultKind.IsolateNode or FaultKind.IsolateLeader or FaultKind.SplitMajority or FaultKind.OneWayCut or FaultKind.BridgePartition => FaultFamily.Partition,
        FaultKind.PacketLoss => FaultFamily.Loss,
        FaultKind.PauseLeader or FaultKind.PauseNode => FaultFamily.Pause,
        FaultKind.KillNode or FaultKind.KillLeader or FaultKind.RollingRestart => FaultFamily.Kill,
        FaultKind.MoveShards => FaultFamily.Move,
        _ => FaultFamily.Disk,
    };

    /// <summary>Parses "partition,pause,kill,loss,disk,move" (any subset, any order, no repeats needed).</summary>
    public static IReadOnlyList<FaultFamily> ParseFamilies(string text)
    {
        var families = new SortedSet<FaultFamily>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<FaultFamily>(item, ignoreCase: true, out var family) || !Enum.IsDefined(family) || int.TryParse(item, out _))
                throw new FormatException($"unknown fault '{item}' (known: partition, pause, kill, loss, disk, move)");
            families.Add(family);
        }
        return families.Count > 0 ? families.ToList() : throw new FormatException("no faults named (e.g. partition,pause,kill,loss,disk)");
    }
}
