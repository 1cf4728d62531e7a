namespace Flotilla.Cli.Nemesis;

/// <summary>A directed link whose packets are dropped: what <paramref name="From"/> sends never reaches <paramref name="To"/>.</summary>
public readonly record struct Cut(int From, int To);

/// <summary>The cuts each partition kind makes among nodes 1..n (pure; the leader already resolved into the targets).</summary>
public static class PartitionShapes
{
    public static IReadOnlySet<Cut> CutsFor(FaultKind kind, IReadOnlyList<int> targets, int nodes) =>
        CutsFor(kind, targets, Enumerable.Range(1, nodes).ToList());

    /// <summary>The cuts among <paramref name="members"/> (ids: after member faults, not 1..n).</summary>
    public static IReadOnlySet<Cut> CutsFor(FaultKind kind, IReadOnlyList<int> targets, IReadOnlyList<int> members)
    {
        var all = members;
        var cuts = new HashSet<Cut>();
        switch (kind)
        {
            case FaultKind.IsolateNode or FaultKind.IsolateLeader or FaultKind.SplitMajority:
                // Targets are one side, everyone else the other: both directions cut.
                var side = targets.ToHashSet();
                foreach (var a in side)
                foreach (var b in all.Where(b => !side.Contains(b)))
                {
                    cuts.Add(new Cut(a, b));
                    cuts.Add(new Cut(b, a));
                }
                break;
            case FaultKind.OneWayCut:
                foreach (var b in all.Where(b => b != targets[0])) cuts.Add(new Cut(targets[0], b));
                break;
            case FaultKind.BridgePartition:
                // targets = bridge, then every other node; the first half and the second half cannot talk.
                var rest = targets.Skip(1).ToList();
                var left = rest.Take(rest.Count / 2).ToList();
                var right = rest.Skip(rest.Count / 2).ToList();
                foreach (var a in left)
                foreach (var b in right)
                {
                    cuts.Add(new Cut(a, b));
                    cuts.Add(new Cut(b, a));
                }
                break;
            default:
                throw new ArgumentException($"{kind} is not a partition", nameof(kind));
        }
        return cuts;
    }
}
