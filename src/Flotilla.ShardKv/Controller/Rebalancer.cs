namespace Flotilla.ShardKv.Controller;

/// <summary>
/// Spreads shards over groups as evenly as possible (every group's count within one of every other's) while moving as
/// few shards as possible: only shards of departed groups and a group's shards beyond its target move. A pure function
/// of its inputs, in a fixed order (gids ascending, shards ascending), because every controller replica computes it and
/// must get the same answer.
/// </summary>
public static class Rebalancer
{
    public static int[] Rebalance(IReadOnlyList<int> shards, IEnumerable<int> groups)
    {
        var gids = groups.Distinct().Order().ToList();
        var result = shards.ToArray();
        if (gids.Count == 0)
        {
            Array.Fill(result, 0);
            return result;
        }
        var owned = gids.ToDictionary(g => g, g => new List<int>());
        var free = new List<int>();
        for (var s = 0; s < result.Length; s++)
        {
            if (owned.TryGetValue(result[s], out var list)) list.Add(s);
            else free.Add(s); // unassigned, or its group left
        }
        // Targets: the groups that already hold the most keep the extra shard, so fewer shards move.
        var byLoad = gids.OrderByDescending(g => owned[g].Count).ThenBy(g => g).ToList();
        var target = new Dictionary<int, int>();
        for (var i = 0; i < byLoad.Count; i++) target[byLoad[i]] = result.Length / gids.Count + (i < result.Length % gids.Count ? 1 : 0);
        foreach (var g in gids)
        {
            var mine = owned[g];
            // Release the highest-numbered shards beyond the target.
            while (mine.Count > target[g])
            {
                free.Add(mine[^1]);
                mine.RemoveAt(mine.Count - 1);
            }
        }
        free.Sort();
        var next = 0;
        foreach (var g in gids)
        {
            while (owned[g].Count < target[g]) owned[g].Add(free[next++]);
        }
        foreach (var (g, mine) in owned)
        {
            foreach (var s in mine) result[s] = g;
        }
        return result;
    }
}
