using Flotilla.ShardKv.Controller;

namespace Flotilla.ShardKv.Tests;

public class RebalancerTests
{
    private static void AssertBalanced(IReadOnlyList<int> shards, IReadOnlyCollection<int> gids)
    {
        Assert.All(shards, g => Assert.Contains(g, gids));
        var counts = gids.Select(g => shards.Count(s => s == g)).ToList();
        Assert.True(counts.Max() - counts.Min() <= 1, $"unbalanced: {string.Join(",", counts)}");
    }

    [Fact]
    public void JoiningGroupsOneByOneStaysBalancedAndMovesOnlyWhatTheNewcomerTakes()
    {
        const int shardCount = 10;
        var shards = new int[shardCount];
        var gids = new List<int>();
        for (var gid = 1; gid <= 14; gid++)
        {
            gids.Add(gid);
            var next = Rebalancer.Rebalance(shards, gids);
            var moved = Enumerable.Range(0, shardCount).Where(s => next[s] != shards[s]).ToList();
            // Every move goes to the newcomer, and it moves nothing else: the fewest moves that balance.
            Assert.All(moved, s => Assert.Equal(gid, next[s]));
            Assert.Equal(next.Count(g => g == gid), moved.Count);
            if (gid <= shardCount) AssertBalanced(next, gids);
            else Assert.True(moved.Count == 0, "a group beyond the shard count takes nothing");
            Assert.All(next, g => Assert.NotEqual(0, g));
            shards = next;
        }
    }

    [Fact]
    public void LeavingMovesOnlyTheLeaversShardsAndStaysBalanced()
    {
        var gids = new List<int> { 1, 2, 3, 4 };
        var shards = Rebalancer.Rebalance(new int[10], gids);
        gids.Remove(3);
        var next = Rebalancer.Rebalance(shards, gids);
        for (var s = 0; s < 10; s++)
        {
            if (shards[s] != 3) Assert.Equal(shards[s], next[s]);
        }
        AssertBalanced(next, gids);
    }

    [Fact]
    public void NoGroupsLeavesEveryShardUnassigned() =>
        Assert.All(Rebalancer.Rebalance([1, 2, 1, 2], []), g => Assert.Equal(0, g));

    [Fact]
    public void ResultDependsOnTheSetOfGroupsNotTheirOrder()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 200; trial++)
        {
            var shards = Enumerable.Range(0, 16).Select(_ => random.Next(0, 6)).ToArray();
            var gids = Enumerable.Range(1, random.Next(1, 8)).Where(_ => random.Next(3) > 0).DefaultIfEmpty(1).ToList();
            var shuffled = gids.OrderBy(_ => random.Next()).ToList();
            var a = Rebalancer.Rebalance(shards, gids);
            Assert.Equal(a, Rebalancer.Rebalance(shards, shuffled));
            AssertBalanced(a, gids.Distinct().ToList());
        }
    }
}
