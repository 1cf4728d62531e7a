using Flotilla.Kv.Protos;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Group;

namespace Flotilla.ShardKv.Tests;

public class ShardGroupServiceTests
{
    private const int Shards = 8;

    private static GroupReply Run(ShardGroupService group, byte[] command) => GroupReply.Decode(group.Apply(command).Span);

    /// <summary>A key of the given shard (searching names in order, so the test is the same every run).</summary>
    private static string KeyOf(int shard) => Enumerable.Range(0, 10_000).Select(i => $"key{i}").First(k => ShardMap.ShardOf(k, Shards) == shard);

    /// <summary>The controller's configurations for: join 1; join 2; leave 1.</summary>
    private static List<ShardConfig> History()
    {
        var controller = new ShardController(Shards);
        controller.Apply(ControllerCommand.Join(new Dictionary<int, string[]> { [1] = ["a:1"] }));
        controller.Apply(ControllerCommand.Join(new Dictionary<int, string[]> { [2] = ["b:1"] }));
        controller.Apply(ControllerCommand.Leave(1));
        return [.. controller.Configs];
    }

    [Fact]
    public void AShardMovesWithItsDataAndVersionsAndIsServedByExactlyOneGroupAtATime()
    {
        var configs = History();
        var g1 = new ShardGroupService(1, Shards);
        var g2 = new ShardGroupService(2, Shards);
        Run(g1, GroupCommand.NextConfig(configs[1]));
        Run(g2, GroupCommand.NextConfig(configs[1]));
        var moving = Enumerable.Range(0, Shards).First(s => configs[2].Shards[s] == 2);
        var key = KeyOf(moving);
        Assert.Equal(KvError.Ok, Run(g1, GroupCommand.Put(key, "v1", 0)).KvError);
        Assert.Equal(GroupStatus.WrongGroup, Run(g2, GroupCommand.Put(key, "x", 0)).Status);

        // Configuration 2 gives the shard to group 2: group 1 freezes it, group 2 must pull it.
        Run(g1, GroupCommand.NextConfig(configs[2]));
        Run(g2, GroupCommand.NextConfig(configs[2]));
        Assert.Equal(ShardState.Offering, g1.StateOf(moving));
        Assert.Equal(ShardState.Pulling, g2.StateOf(moving));
        Assert.Equal(GroupStatus.WrongGroup, Run(g1, GroupCommand.Put(key, "late", 1)).Status); // frozen
        Assert.Equal(GroupStatus.WrongGroup, Run(g2, GroupCommand.Put(key, "early", 1)).Status); // not here yet
        Assert.Contains((moving, 1), g2.ShardsToPull());
        Assert.Null(g1.ExportShard(1, moving)); // the wrong configuration: not handed out
        Assert.False(g2.Settled);

        var data = g1.ExportShard(2, moving)!;
        Assert.Equal(GroupStatus.Ok, Run(g2, GroupCommand.Install(2, moving, data)).Status);
        Assert.Equal("v1", g2.Get(key)!.Value);
        Assert.Equal(1UL, g2.Get(key)!.Version);
        // The version moved with the data: a retry of the first put fails as a version conflict, never applies twice.
        Assert.Equal(KvError.ErrVersion, Run(g2, GroupCommand.Put(key, "v1", 0)).KvError);
        Assert.Equal(KvError.Ok, Run(g2, GroupCommand.Put(key, "v2", 1)).KvError);
        // A duplicate install (a retried pull) must not roll the shard back.
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Install(2, moving, data)).Status);
        Assert.Equal("v2", g2.Get(key)!.Value);

        Assert.False(g1.Settled); // it cannot take configuration 3 until the new owner confirms
        Assert.Equal(GroupStatus.Ignored, Run(g1, GroupCommand.NextConfig(configs[3])).Status);
        Assert.Equal(GroupStatus.Ignored, Run(g1, GroupCommand.Delete(1, moving)).Status);
        foreach (var (shard, _) in ShardsGained(configs, 2, 2)) Run(g1, GroupCommand.Delete(2, shard));
        Assert.Equal(ShardState.Absent, g1.StateOf(moving));
        Assert.Null(g1.Get(key));
        Assert.True(g1.Settled);
        Assert.Equal(GroupStatus.Ok, Run(g1, GroupCommand.NextConfig(configs[3])).Status);
    }

    [Fact]
    public void ANewOwnerServesAnInstalledShardAtOnceButTakesNoNewConfigurationUntilTheOldCopyIsDeleted()
    {
        var configs = History();
        var g1 = new ShardGroupService(1, Shards);
        var g2 = new ShardGroupService(2, Shards);
        foreach (var n in new[] { 1, 2 })
        {
            Run(g1, GroupCommand.NextConfig(configs[n]));
            Run(g2, GroupCommand.NextConfig(configs[n]));
        }
        var moving = ShardsGained(configs, 2, 2).Select(p => p.Shard).ToList();
        foreach (var shard in moving) Run(g2, GroupCommand.Install(2, shard, g1.ExportShard(2, shard)!));
        Assert.All(moving, s => Assert.Equal(ShardState.Installed, g2.StateOf(s)));
        Assert.Equal(KvError.Ok, Run(g2, GroupCommand.Put(KeyOf(moving[0]), "new", 0)).KvError); // served already
        Assert.Equal(moving.Select(s => (s, 1)), g2.ShardsToConfirm());
        Assert.False(g2.Settled);
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.NextConfig(configs[3])).Status);

        Assert.False(g1.Released(2, moving));
        Assert.Equal(moving, g1.Offered(2, moving));
        foreach (var shard in moving) Run(g1, GroupCommand.Delete(2, shard));
        Assert.True(g1.Released(2, moving));
        Assert.Equal(0, g1.DataSize().Keys);

        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Confirm(1, moving[0])).Status); // stale configuration
        foreach (var shard in moving) Assert.Equal(GroupStatus.Ok, Run(g2, GroupCommand.Confirm(2, shard)).Status);
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Confirm(2, moving[0])).Status); // duplicate
        Assert.True(g2.Settled);
        Assert.Equal(GroupStatus.Ok, Run(g2, GroupCommand.NextConfig(configs[3])).Status);
    }

    [Fact]
    public void ConfigurationsAreTakenInOrderOnly()
    {
        var configs = History();
        var g1 = new ShardGroupService(1, Shards);
        Assert.Equal(GroupStatus.Ignored, Run(g1, GroupCommand.NextConfig(configs[2])).Status); // skips 1
        Assert.Equal(GroupStatus.Ok, Run(g1, GroupCommand.NextConfig(configs[1])).Status);
        Assert.Equal(GroupStatus.Ignored, Run(g1, GroupCommand.NextConfig(configs[1])).Status); // again
        // Shards that nobody owned before start empty and are served at once.
        Assert.True(g1.Settled);
        Assert.All(Enumerable.Range(0, Shards), s => Assert.Equal(ShardState.Serving, g1.StateOf(s)));
    }

    [Fact]
    public void ReplicasAgreeThroughSnapshotRestoresOnRandomHistories()
    {
        var configs = History();
        for (var seed = 0; seed < 50; seed++)
        {
            var random = new Random(seed);
            var a = new ShardGroupService(2, Shards);
            var b = new ShardGroupService(2, Shards);
            var commands = new List<byte[]>();
            for (var i = 0; i < 80; i++)
            {
                commands.Add(random.Next(6) switch
                {
                    4 => GroupCommand.Confirm(random.Next(0, 4), random.Next(Shards)),
                    0 => GroupCommand.NextConfig(configs[random.Next(1, configs.Count)]),
                    1 => GroupCommand.Install(random.Next(0, 4), random.Next(Shards), new Flotilla.Kv.StateMachine.KvStateMachine().Snapshot()),
                    2 => GroupCommand.Delete(random.Next(0, 4), random.Next(Shards)),
                    _ => GroupCommand.Put($"k{random.Next(20)}", $"v{i}", (ulong)random.Next(0, 3)),
                });
            }
            var cut = random.Next(commands.Count);
            for (var i = 0; i < commands.Count; i++)
            {
                Assert.Equal(a.Apply(commands[i]).ToArray(), b.Apply(commands[i]).ToArray());
                if (i != cut) continue;
                b = new ShardGroupService(2, Shards);
                b.Restore(a.Snapshot());
            }
            Assert.Equal(a.Snapshot(), b.Snapshot());
        }
    }

    private static IEnumerable<(int Shard, int From)> ShardsGained(List<ShardConfig> configs, int num, int gid) =>
        Enumerable.Range(0, Shards).Where(s => configs[num].Shards[s] == gid && configs[num - 1].Shards[s] != gid && configs[num - 1].Shards[s] != 0)
            .Select(s => (s, configs[num - 1].Shards[s]));
}
