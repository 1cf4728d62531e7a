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
    /// <summary>Added delay and jitter on peer links (the server's delaying transport, switched through its control file).</summary>
    Latency,
    /// <summary>A member's data directory (its own small tmpfs) filled up by a ballast file; freed to heal. <c>--faults</c>
    /// calls it <c>disk-full</c> or <c>full</c>.</summary>
    DiskFull,
    /// <summary>A member's clock running fast or slow, or jumping forward (the server's skewed clock).</summary>
    Clock,
    /// <summary>Membership changes of the replicated KV through Raft (Admin RPCs): a member replaced by a new one with an
    /// empty disk, a member added and another removed, leadership handed over.</summary>
    Member,
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
    /// <summary>Messages both ways between the two listed nodes wait <see cref="PlannedFault.Amount"/> ms, plus or minus
    /// <see cref="PlannedFault.Jitter"/>.</summary>
    SlowLink,
    /// <summary>Every peer message to and from the listed node waits <see cref="PlannedFault.Amount"/> ms (plus or minus
    /// <see cref="PlannedFault.Jitter"/>).</summary>
    SlowNode,
    /// <summary>One node's data directory filled to the last byte; the ballast removed at the end.</summary>
    DiskFullNode,
    /// <summary>The leader's data directory filled to the last byte; the ballast removed at the end.</summary>
    DiskFullLeader,
    /// <summary>One node's clock runs at <see cref="PlannedFault.Amount"/> percent of real speed; back to 100 at the end.</summary>
    ClockRate,
    /// <summary>One node's clock jumps <see cref="PlannedFault.Amount"/> ms forward (timers it passes fire at once); a
    /// monotonic clock cannot go back, so the heal leaves it ahead.</summary>
    ClockJump,
    /// <summary>kill -9 of one node and its data directory wiped; a new member (a new id, its own namespace, an empty
    /// disk) joins as a learner, catches up, and one joint change makes it a voter and removes the old id. Nothing to heal.</summary>
    ReplaceNode,
    /// <summary>A new member added (learner, caught up, promoted): one voter more while the fault lasts; the heal removes
    /// the listed node, and the new member takes its place.</summary>
    AddRemove,
    /// <summary>The listed node removed from the group (and stopped): one voter fewer while the fault lasts; the heal adds
    /// a new member in its place.</summary>
    RemoveAdd,
    /// <summary>Leadership handed to the listed node (Admin.TransferLeadership; nothing if it already leads).</summary>
    TransferLeader,
}

/// <summary>One fault of the schedule: when it starts (from the start of the run), how long it lasts, what it is,
/// the nodes it targets (empty for "the leader", resolved when it is injected) and a size (loss or failure percent,
/// fsync delay in ms). Nodes are slots 1..n: member faults give a slot a new member (a new id), and a fault aims at
/// whichever member holds the slot when it starts (<see cref="NemesisCluster.MemberAt"/>).</summary>
public sealed record PlannedFault(TimeSpan At, TimeSpan Duration, FaultKind Kind, IReadOnlyList<int> Nodes, int Amount = 0)
{
    public TimeSpan End => At + Duration;

    public bool TargetsLeader => Kind is FaultKind.IsolateLeader or FaultKind.PauseLeader or FaultKind.KillLeader or FaultKind.DiskFullLeader;

    /// <summary>The jitter of a latency fault: a quarter of its delay.</summary>
    public int Jitter => Kind is FaultKind.SlowLink or FaultKind.SlowNode ? Amount / 4 : 0;

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
            FaultKind.SlowLink => $"+{Amount}ms ±{Jitter}ms between {nodes}",
            FaultKind.SlowNode => $"+{Amount}ms ±{Jitter}ms to and from {nodes}",
            FaultKind.DiskFullNode or FaultKind.DiskFullLeader => $"disk full at {(nodes.Length == 0 ? "leader" : nodes)}",
            FaultKind.ClockRate => $"clock at {Amount / 100.0:0.##}x at {nodes}",
            FaultKind.ClockJump => $"clock +{Amount}ms at {nodes}",
            FaultKind.ReplaceNode => $"{nodes} wiped and replaced by a new member",
            FaultKind.AddRemove => $"a new member added, then {nodes} removed",
            FaultKind.RemoveAdd => $"{nodes} removed, then a new member added",
            FaultKind.TransferLeader => $"leadership to {nodes}",
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
        FaultKind.SlowLink or FaultKind.SlowNode => FaultFamily.Latency,
        FaultKind.DiskFullNode or FaultKind.DiskFullLeader => FaultFamily.DiskFull,
        FaultKind.ClockRate or FaultKind.ClockJump => FaultFamily.Clock,
        FaultKind.SlowFsync or FaultKind.FailingFsync => FaultFamily.Disk,
        FaultKind.ReplaceNode or FaultKind.AddRemove or FaultKind.RemoveAdd or FaultKind.TransferLeader => FaultFamily.Member,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no family"),
    };

    /// <summary>The family's name on the command line and in reports.</summary>
    public static string NameOf(FaultFamily family) => family == FaultFamily.DiskFull ? "disk-full" : family.ToString().ToLowerInvariant();

    private const string Known = "partition, pause, kill, loss, disk, move, latency, disk-full (or full), clock, member";

    /// <summary>Parses "partition,pause,kill,loss,disk,move,latency,disk-full,clock,member" (any subset, any order, no repeats
    /// needed; "full" is short for disk-full).</summary>
    public static IReadOnlyList<FaultFamily> ParseFamilies(string text)
    {
        var families = new SortedSet<FaultFamily>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item.Equals("disk-full", StringComparison.OrdinalIgnoreCase) || item.Equals("full", StringComparison.OrdinalIgnoreCase))
            {
                families.Add(FaultFamily.DiskFull);
                continue;
            }
            if (!Enum.TryParse<FaultFamily>(item, ignoreCase: true, out var family) || !Enum.IsDefined(family) || int.TryParse(item, out _)
                || family == FaultFamily.DiskFull)
                throw new FormatException($"unknown fault '{item}' (known: {Known})");
            families.Add(family);
        }
        return families.Count > 0 ? families.ToList() : throw new FormatException("no faults named (e.g. partition,pause,kill,loss,disk)");
    }
}
