namespace Flotilla.ShardKv.Controller;

/// <summary>
/// One numbered configuration of the sharded store: which group owns each shard (0 = nobody) and which groups exist
/// with their members' endpoints. Configurations never change once created; the controller only appends new ones.
/// </summary>
public sealed record ShardConfig(int Num, IReadOnlyList<int> Shards, IReadOnlyDictionary<int, IReadOnlyList<string>> Groups)
{
    /// <summary>Configuration 0: no groups, every shard unassigned.</summary>
    public static ShardConfig Initial(int shardCount) =>
        new(0, new int[shardCount], new SortedDictionary<int, IReadOnlyList<string>>());

    /// <summary>The shards <paramref name="gid"/> owns, ascending.</summary>
    public IEnumerable<int> ShardsOf(int gid) => Enumerable.Range(0, Shards.Count).Where(s => Shards[s] == gid);

    /// <summary>Value equality (records compare collections by reference).</summary>
    public bool SameAs(ShardConfig other) =>
        Num == other.Num && Shards.SequenceEqual(other.Shards) && Groups.Count == other.Groups.Count &&
        Groups.All(g => other.Groups.TryGetValue(g.Key, out var servers) && servers.SequenceEqual(g.Value));
}
