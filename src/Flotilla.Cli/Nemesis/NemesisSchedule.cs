namespace Flotilla.Cli.Nemesis;

/// <summary>
/// The faults of a run, drawn from the seed alone: the same seed, fault families, node count and duration always
/// give the same schedule, so a failing run can be replayed (what the schedule cannot fix is timing and which node
/// leads when a "leader" fault starts). One fault at a time, families taken in turn (in an order the seed shuffles),
/// the kind, targets, length and the quiet gap after it drawn at random. The last fault is still in force at the end.
/// </summary>
public static class NemesisSchedule
{
    /// <summary>Before the first fault: the cluster elects a leader and the clients get going.</summary>
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(1.5);

    public static readonly TimeSpan FaultMin = TimeSpan.FromSeconds(1.5);
    public static readonly TimeSpan FaultMax = TimeSpan.FromSeconds(4);
    public static readonly TimeSpan GapMin = TimeSpan.FromSeconds(0.5);
    public static readonly TimeSpan GapMax = TimeSpan.FromSeconds(2);

    public static IReadOnlyList<PlannedFault> Draw(long seed, IReadOnlyList<FaultFamily> families, int nodes, TimeSpan duration)
    {
        if (nodes < 3) throw new ArgumentOutOfRangeException(nameof(nodes), "a nemesis run needs at least 3 nodes");
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var order = families.Distinct().Order().ToArray();
        random.Shuffle(order);
        var faults = new List<PlannedFault>();
        var at = Warmup;
        for (var turn = 0; at + FaultMin <= duration; turn++)
        {
            var length = Between(random, FaultMin, FaultMax);
            if (at + length > duration) length = duration - at;
            faults.Add(Pick(random, order[turn % order.Length], nodes, at, length));
            at += length + Between(random, GapMin, GapMax);
        }
        // The last fault lasts until the end of the run: healing it is what the recovery time measures.
        if (faults.Count > 0) faults[^1] = faults[^1] with { Duration = duration - faults[^1].At };
        return faults;
    }

    /// <summary>How many members the schedule's member faults add at most (a replace, an add-remove and a remove-add
    /// each start one): the spare namespaces to make at the start, whose addresses the clients are given.</summary>
    public static int NewMembers(IReadOnlyList<PlannedFault> schedule) =>
        schedule.Count(f => f.Kind is FaultKind.ReplaceNode or FaultKind.AddRemove or FaultKind.RemoveAdd);

    private static PlannedFault Pick(Random random, FaultFamily family, int nodes, TimeSpan at, TimeSpan length)
    {
        int Node() => random.Next(1, nodes + 1);
        var all = Enumerable.Range(1, nodes).ToArray();
        switch (family)
        {
            case FaultFamily.Partition:
                var kind = random.Next(5) switch
                {
                    0 => FaultKind.IsolateNode,
                    1 => FaultKind.IsolateLeader,
                    2 => FaultKind.SplitMajority,
                    3 => FaultKind.OneWayCut,
                    _ => FaultKind.BridgePartition,
                };
                return kind switch
                {
                    FaultKind.IsolateLeader => new(at, length, kind, []),
                    // The minority side, 1 to floor(n/2) nodes.
                    FaultKind.SplitMajority => new(at, length, kind, Shuffled(random, all).Take(random.Next(1, nodes / 2 + 1)).Order().ToArray()),
                    // The bridge node first, then the two sides in the order drawn.
                    FaultKind.BridgePartition => new(at, length, kind, Shuffled(random, all)),
                    _ => new(at, length, kind, [Node()]),
                };
            case FaultFamily.Loss:
                // Loss everywhere or at one node; 10-40% of packets.
                var lossy = random.Next(2) == 0 ? all : [Node()];
                return new(at, length, FaultKind.PacketLoss, lossy, random.Next(10, 41));
            case FaultFamily.Pause:
                return random.Next(2) == 0 ? new(at, length, FaultKind.PauseLeader, []) : new(at, length, FaultKind.PauseNode, [Node()]);
            case FaultFamily.Kill:
                return random.Next(3) switch
                {
                    0 => new(at, length, FaultKind.KillLeader, []),
                    1 => new(at, length, FaultKind.KillNode, [Node()]),
                    _ => new(at, length, FaultKind.RollingRestart, all),
                };
            case FaultFamily.Move:
                // 1 to 3 shards at once: concurrent migrations, some of them still running when the next fault hits.
                return new(at, length, FaultKind.MoveShards, [], random.Next(1, 4));
            case FaultFamily.Latency:
                // 50-400 ms (jitter a quarter of it) on one link, both ways, or on everything a node sends and receives.
                var delay = random.Next(50, 401);
                return random.Next(2) == 0
                    ? new(at, length, FaultKind.SlowLink, Shuffled(random, all).Take(2).Order().ToArray(), delay)
                    : new(at, length, FaultKind.SlowNode, [Node()], delay);
            case FaultFamily.DiskFull:
                return random.Next(2) == 0 ? new(at, length, FaultKind.DiskFullLeader, []) : new(at, length, FaultKind.DiskFullNode, [Node()]);
            case FaultFamily.Clock:
                // A quarter to 4x the real speed (never 1x), or a jump of 0.5-5 s: around and beyond Raft's timeouts.
                return random.Next(2) == 0
                    ? new(at, length, FaultKind.ClockRate, [Node()], ClockRates[random.Next(ClockRates.Length)])
                    : new(at, length, FaultKind.ClockJump, [Node()], random.Next(500, 5001));
            case FaultFamily.Member:
                // The target is a slot (1..nodes): whichever member holds it when the fault starts.
                var change = random.Next(4) switch
                {
                    0 => FaultKind.ReplaceNode,
                    1 => FaultKind.AddRemove,
                    2 => FaultKind.RemoveAdd,
                    _ => FaultKind.TransferLeader,
                };
                return new(at, length, change, [Node()]);
            case FaultFamily.Disk:
            default:
                // A failing disk fails some fsyncs, so the member usually starts and then poisons its log while
                // serving (all of them would only show that it refuses to start).
                return random.Next(2) == 0
                    ? new(at, length, FaultKind.SlowFsync, [Node()], random.Next(50, 301))
                    : new(at, length, FaultKind.FailingFsync, [Node()], random.Next(5, 21));
        }
    }

    /// <summary>Clock speeds in percent of real time.</summary>
    private static readonly int[] ClockRates = [25, 50, 200, 400];

    private static int[] Shuffled(Random random, int[] items)
    {
        var copy = items.ToArray();
        random.Shuffle(copy);
        return copy;
    }

    private static TimeSpan Between(Random random, TimeSpan min, TimeSpan max) =>
        TimeSpan.FromMilliseconds(Math.Round(min.TotalMilliseconds + random.NextDouble() * (max - min).TotalMilliseconds));
}
