using Flotilla.ShardKv.Controller;

namespace Flotilla.ShardKv.Tests;

public class ShardControllerTests
{
    private static ControllerReply Run(ShardController controller, byte[] command) => ControllerReply.Decode(controller.Apply(command).Span);

    private static Dictionary<int, string[]> Groups(params int[] gids) => gids.ToDictionary(g => g, g => new[] { $"g{g}a:7000", $"g{g}b:7000" });

    [Fact]
    public void JoinLeaveMoveAndQueryNumberConfigurationsAndKeepHistory()
    {
        var controller = new ShardController(10);
        Assert.Equal(0, Run(controller, ControllerCommand.Query()).Config!.Num);

        var joined = Run(controller, ControllerCommand.Join(Groups(1, 2)));
        Assert.Equal(ControllerError.Ok, joined.Error);
        Assert.Equal(1, joined.Config!.Num);
        Assert.Equal(5, joined.Config.Shards.Count(g => g == 1));
        Assert.Equal(["g2a:7000", "g2b:7000"], joined.Config.Groups[2]);

        var moved = Run(controller, ControllerCommand.Move(0, 2));
        Assert.Equal(2, moved.Config!.Num);
        Assert.Equal(2, moved.Config.Shards[0]);
        // Move changes that shard only.
        Assert.Equal(joined.Config.Shards.Skip(1), moved.Config.Shards.Skip(1));

        var left = Run(controller, ControllerCommand.Leave(1));
        Assert.Equal(3, left.Config!.Num);
        Assert.All(left.Config.Shards, g => Assert.Equal(2, g));
        Assert.Equal([2], left.Config.Groups.Keys);

        // Old configurations stay as they were; past-the-end and -1 mean the latest.
        Assert.True(ShardConfigData.From(controller.Configs[1]).ToConfig().SameAs(Run(controller, ControllerCommand.Query(1)).Config!.ToConfig()));
        Assert.Equal(3, Run(controller, ControllerCommand.Query(99)).Config!.Num);
        Assert.Equal(3, Run(controller, ControllerCommand.Query(-1)).Config!.Num);
    }

    [Fact]
    public void RejectedCommandsCreateNoConfiguration()
    {
        var controller = new ShardController(4);
        Run(controller, ControllerCommand.Join(Groups(1)));
        Assert.Equal(ControllerError.GroupExists, Run(controller, ControllerCommand.Join(Groups(1, 2))).Error);
        Assert.Equal(ControllerError.Invalid, Run(controller, ControllerCommand.Join(new Dictionary<int, string[]> { [0] = ["x:1"] })).Error);
        Assert.Equal(ControllerError.Invalid, Run(controller, ControllerCommand.Join(new Dictionary<int, string[]> { [5] = [] })).Error);
        Assert.Equal(ControllerError.NoSuchGroup, Run(controller, ControllerCommand.Leave(9)).Error);
        Assert.Equal(ControllerError.Invalid, Run(controller, ControllerCommand.Leave()).Error);
        Assert.Equal(ControllerError.NoSuchShard, Run(controller, ControllerCommand.Move(4, 1)).Error);
        Assert.Equal(ControllerError.NoSuchGroup, Run(controller, ControllerCommand.Move(0, 9)).Error);
        Assert.Equal(ControllerError.NoSuchConfig, Run(controller, ControllerCommand.Query(-2)).Error);
        Assert.Equal(2, controller.Configs.Count);
    }

    [Fact]
    public void TheLastGroupsCannotLeaveSoNoShardIsLeftWithoutAHomeForItsData()
    {
        var controller = new ShardController(4);
        Run(controller, ControllerCommand.Join(Groups(1, 2)));
        Assert.Equal(ControllerError.LastGroup, Run(controller, ControllerCommand.Leave(1, 2)).Error);
        Assert.Equal(ControllerError.Ok, Run(controller, ControllerCommand.Leave(1)).Error);
        Assert.Equal(ControllerError.LastGroup, Run(controller, ControllerCommand.Leave(2)).Error);
        Assert.Equal(3, controller.Configs.Count);
        Assert.All(controller.Latest.Shards, g => Assert.Equal(2, g));
    }

    [Fact]
    public void GarbageInTheLogIsABugNotAConfiguration()
    {
        var controller = new ShardController(4);
        Assert.Throws<InvalidDataException>(() => controller.Apply("not json"u8.ToArray()));
        Assert.Throws<InvalidDataException>(() => controller.Apply("""{"op":"explode"}"""u8.ToArray()));
        Assert.Single(controller.Configs);
    }

    [Fact]
    public void ReplicasThatApplyTheSameLogAgreeEvenWhenOneRestartsFromASnapshot()
    {
        for (var seed = 0; seed < 100; seed++)
        {
            var random = new Random(seed);
            var commands = RandomCommands(random, 60);
            var a = new ShardController(12);
            var b = new ShardController(12);
            var cut = random.Next(commands.Count);
            for (var i = 0; i < commands.Count; i++)
            {
                Assert.Equal(a.Apply(commands[i]).ToArray(), b.Apply(commands[i]).ToArray());
                if (i == cut)
                {
                    // b "crashes" and comes back from a's snapshot.
                    b = new ShardController(1);
                    b.Restore(a.Snapshot());
                }
            }
            Assert.Equal(a.Configs.Count, b.Configs.Count);
            for (var n = 0; n < a.Configs.Count; n++) Assert.True(a.Configs[n].SameAs(b.Configs[n]), $"seed {seed}: configuration {n} differs");
            // Balanced whenever groups exist and nothing was moved by hand since the last join/leave.
            Assert.All(a.Configs.Skip(1), c => Assert.All(c.Shards, g => Assert.True(g == 0 || c.Groups.ContainsKey(g), $"seed {seed}: shard owned by a departed group")));
        }
    }

    private static List<byte[]> RandomCommands(Random random, int count)
    {
        var commands = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            commands.Add(random.Next(4) switch
            {
                0 => ControllerCommand.Join(Groups(Enumerable.Range(0, random.Next(1, 3)).Select(_ => random.Next(1, 9)).Distinct().ToArray())),
                1 => ControllerCommand.Leave(random.Next(1, 9)),
                2 => ControllerCommand.Move(random.Next(0, 12), random.Next(1, 9)),
                _ => ControllerCommand.Query(random.Next(-1, 10)),
            });
        }
        return commands;
    }
}
