using Flotilla.Rsm;

namespace Flotilla.ShardKv.Controller;

/// <summary>
/// The shard controller's state machine (host it on a <see cref="ReplicatedStateMachine"/>): the list of numbered
/// configurations, extended by Join, Leave and Move, read by Query. Deterministic: every replica applies the same
/// commands in log order and computes the same configurations (see <see cref="Rebalancer"/>). A rejected command
/// creates no configuration. Design: docs/shardkv-design.md.
/// </summary>
public sealed class ShardController : IReplicatedService
{
    private readonly List<ShardConfig> _configs = [];

    public ShardController(int shardCount)
    {
        if (shardCount is < 1 or > 1 << 16) throw new ArgumentOutOfRangeException(nameof(shardCount), shardCount, "1 to 65536 shards");
        ShardCount = shardCount;
        _configs.Add(ShardConfig.Initial(shardCount));
    }

    public int ShardCount { get; private set; }

    public IReadOnlyList<ShardConfig> Configs => _configs;

    public ShardConfig Latest => _configs[^1];

    public ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command) => Execute(ControllerCommand.Decode(command.Span)).Encode();

    /// <summary>Applies a decoded command (what <see cref="Apply"/> does after decoding).</summary>
    public ControllerReply Execute(ControllerCommand command) => command.Op switch
    {
        ControllerCommand.JoinOp => Join(command.Groups),
        ControllerCommand.LeaveOp => Leave(command.Gids),
        ControllerCommand.MoveOp => Move(command.Shard, command.Gid),
        ControllerCommand.QueryOp => Query(command.Num),
        var op => throw new InvalidDataException($"unknown controller command '{op}'"),
    };

    private ControllerReply Join(SortedDictionary<int, string[]>? joining)
    {
        if (joining is null || joining.Count == 0 || joining.Any(g => g.Key <= 0 || g.Value.Length == 0)) return Error(ControllerError.Invalid);
        var latest = Latest;
        if (joining.Keys.Any(latest.Groups.ContainsKey)) return Error(ControllerError.GroupExists);
        var groups = Sorted(latest.Groups.Concat(joining.Select(g => KeyValuePair.Create(g.Key, (IReadOnlyList<string>)g.Value.ToArray()))));
        return Append(Rebalancer.Rebalance(latest.Shards, groups.Keys), groups);
    }

    private ControllerReply Leave(int[]? leaving)
    {
        if (leaving is null || leaving.Length == 0) return Error(ControllerError.Invalid);
        var latest = Latest;
        if (leaving.Any(g => !latest.Groups.ContainsKey(g))) return Error(ControllerError.NoSuchGroup);
        // Data-loss rule: shards only ever go back to gid 0 by every group leaving, and nothing could hold their data.
        if (latest.Groups.Keys.All(leaving.Contains)) return Error(ControllerError.LastGroup);
        var groups = Sorted(latest.Groups.Where(g => !leaving.Contains(g.Key)));
        return Append(Rebalancer.Rebalance(latest.Shards, groups.Keys), groups);
    }

    private ControllerReply Move(int shard, int gid)
    {
        var latest = Latest;
        if (shard < 0 || shard >= ShardCount) return Error(ControllerError.NoSuchShard);
        if (!latest.Groups.ContainsKey(gid)) return Error(ControllerError.NoSuchGroup);
        var shards = latest.Shards.ToArray();
        shards[shard] = gid;
        return Append(shards, latest.Groups); // configurations are immutable: the new one can share the group table
    }

    private ControllerReply Query(int num)
    {
        if (num < -1) return Error(ControllerError.NoSuchConfig);
        var config = num == -1 || num >= _configs.Count ? Latest : _configs[num];
        return new ControllerReply { Config = ShardConfigData.From(config) };
    }

    private static SortedDictionary<int, IReadOnlyList<string>> Sorted(IEnumerable<KeyValuePair<int, IReadOnlyList<string>>> groups)
    {
        var sorted = new SortedDictionary<int, IReadOnlyList<string>>();
        foreach (var (gid, servers) in groups) sorted.Add(gid, servers);
        return sorted;
    }

    private ControllerReply Append(int[] shards, IReadOnlyDictionary<int, IReadOnlyList<string>> groups)
    {
        var config = new ShardConfig(_configs.Count, shards, groups);
        _configs.Add(config);
        return new ControllerReply { Config = ShardConfigData.From(config) };
    }

    private static ControllerReply Error(ControllerError error) => new() { Error = error };

    public byte[] Snapshot() => LogJson.Write(new SnapshotData
    {
        ShardCount = ShardCount,
        Configs = _configs.Select(ShardConfigData.From).ToList(),
    });

    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        var data = LogJson.Read<SnapshotData>(snapshot.Span, "controller snapshot");
        if (data.Configs.Count == 0 || data.Configs.Select((c, i) => c.Num != i).Any(bad => bad))
            throw new InvalidDataException("controller snapshot configurations are not numbered 0, 1, 2, ...");
        ShardCount = data.ShardCount;
        _configs.Clear();
        _configs.AddRange(data.Configs.Select(c => c.ToConfig()));
    }

    private sealed record SnapshotData
    {
        public int ShardCount { get; init; }
        public required List<ShardConfigData> Configs { get; init; }
    }
}
