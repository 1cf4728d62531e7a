using Flotilla.Kv.Protos;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Group;

namespace Flotilla.ShardKv.Tests;

/// <summary>Chunked pulls in the group state machine: pages cut by key cursor from the frozen copy, installed through
/// chunk commands that are idempotent by (configuration, shard, cursor), served only once the final page applies.</summary>
public class ShardPageTests
{
    private const int Shards = 4, PageBytes = 200;

    private static GroupReply Run(ShardGroupService group, byte[] command) => GroupReply.Decode(group.Apply(command).Span);

    /// <summary>Group 1 owns everything in configuration 1 and fills <paramref name="keys"/> keys of 50-byte values into
    /// the moving shard; configuration 2 gives that shard to group 2. Returns both groups, the shard and the keys.</summary>
    private static (ShardGroupService Old, ShardGroupService New, int Shard, List<string> Keys) Setup(int keys = 30)
    {
        var controller = new ShardController(Shards);
        controller.Apply(ControllerCommand.Join(new Dictionary<int, string[]> { [1] = ["a"] }));
        controller.Apply(ControllerCommand.Join(new Dictionary<int, string[]> { [2] = ["b"] }));
        var (c1, c2) = (controller.Configs[1], controller.Configs[2]);
        var shard = Enumerable.Range(0, Shards).First(s => c2.Shards[s] == 2);
        var g1 = new ShardGroupService(1, Shards);
        var g2 = new ShardGroupService(2, Shards);
        Run(g1, GroupCommand.NextConfig(c1));
        Run(g2, GroupCommand.NextConfig(c1));
        var names = Enumerable.Range(0, 10_000).Select(i => $"key{i}").Where(k => ShardMap.ShardOf(k, Shards) == shard).Take(keys).ToList();
        foreach (var key in names)
        {
            Assert.Equal(KvError.Ok, Run(g1, GroupCommand.Put(key, key + new string('v', 50), 0)).KvError);
            Assert.Equal(KvError.Ok, Run(g1, GroupCommand.Put(key, key + new string('w', 50), 1)).KvError); // version 2
        }
        Run(g1, GroupCommand.NextConfig(c2));
        Run(g2, GroupCommand.NextConfig(c2));
        return (g1, g2, shard, names);
    }

    /// <summary>Every page the old owner cuts, in order, each from the previous one's last key.</summary>
    private static List<ShardPage> AllPages(ShardGroupService old, int shard)
    {
        var pages = new List<ShardPage>();
        string? after = null;
        while (true)
        {
            var page = old.ExportPage(2, shard, after, PageBytes)!;
            pages.Add(page);
            if (page.Final) return pages;
            after = page.Last;
        }
    }

    [Fact]
    public void AShardMovesInManyPagesWithEveryKeyValueAndVersion()
    {
        var (g1, g2, shard, keys) = Setup();
        Assert.Null(g1.ExportPage(1, shard, null, PageBytes)); // not frozen in configuration 1
        var pages = AllPages(g1, shard);
        Assert.True(pages.Count >= 5, $"{pages.Count} pages");
        foreach (var page in pages) Assert.Equal(GroupStatus.Ok, Run(g2, GroupCommand.Chunk(2, shard, page)).Status);
        Assert.Equal(ShardState.Installed, g2.StateOf(shard));
        foreach (var key in keys)
        {
            var read = g2.Get(key)!;
            Assert.Equal((key + new string('w', 50), 2UL), (read.Value, read.Version));
        }
        Assert.Equal(keys.Count, g2.DataSize().Keys);
    }

    [Fact]
    public void ADuplicatedPageInstallsOnceAndAReorderedOrStalePageIsIgnored()
    {
        var (g1, g2, shard, keys) = Setup();
        var pages = AllPages(g1, shard);
        Assert.Equal(GroupStatus.Ok, Run(g2, GroupCommand.Chunk(2, shard, pages[0])).Status);
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Chunk(2, shard, pages[0])).Status); // duplicate
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Chunk(2, shard, pages[2])).Status); // ahead of the cursor
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Chunk(1, shard, pages[1])).Status); // another configuration
        Assert.Equal(pages[0].Last, g2.CursorOf(shard));
        Assert.Equal(1, g2.PagesOf(shard));
        foreach (var page in pages.Skip(1))
        {
            Assert.Equal(GroupStatus.Ok, Run(g2, GroupCommand.Chunk(2, shard, page)).Status);
            Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Chunk(2, shard, page)).Status);
        }
        Assert.Equal(ShardState.Installed, g2.StateOf(shard));
        Assert.Equal(keys.Count, g2.DataSize().Keys);
        // A page replayed after the install (a late duplicate) cannot roll a newer write back.
        Assert.Equal(KvError.Ok, Run(g2, GroupCommand.Put(keys[0], "newer", 2)).KvError);
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Chunk(2, shard, pages[0])).Status);
        Assert.Equal(GroupStatus.Ignored, Run(g2, GroupCommand.Chunk(2, shard, pages[^1])).Status);
        Assert.Equal("newer", g2.Get(keys[0])!.Value);
    }

    [Fact]
    public void NothingOfAShardIsServedBeforeItsFinalPageApplies()
    {
        var (g1, g2, shard, keys) = Setup();
        var pages = AllPages(g1, shard);
        foreach (var page in pages.SkipLast(1))
        {
            Run(g2, GroupCommand.Chunk(2, shard, page));
            Assert.Equal(ShardState.Pulling, g2.StateOf(shard));
            Assert.Null(g2.Get(keys[0])); // WrongGroup: the client waits
            Assert.Equal(GroupStatus.WrongGroup, Run(g2, GroupCommand.Put(keys[0], "early", 2)).Status);
            Assert.Equal(GroupStatus.WrongGroup, Run(g2, GroupCommand.Put("fresh-" + page.Last, "x", 0)).Status);
            Assert.False(g2.Settled);
        }
        Run(g2, GroupCommand.Chunk(2, shard, pages[^1]));
        Assert.Equal(2UL, g2.Get(keys[0])!.Version);
    }

    [Fact]
    public void AnEmptyShardMovesAsOneFinalPage()
    {
        var (g1, g2, shard, _) = Setup(keys: 0);
        var page = g1.ExportPage(2, shard, null, PageBytes)!;
        Assert.True(page.Final);
        Assert.Null(page.Last);
        Assert.Equal(GroupStatus.Ok, Run(g2, GroupCommand.Chunk(2, shard, page)).Status);
        Assert.Equal(ShardState.Installed, g2.StateOf(shard));
        Assert.Equal(0, g2.DataSize().Keys);
    }

    [Fact]
    public void ASnapshotTakenMidPullResumesFromItsCursorOnAnotherReplica()
    {
        var (g1, g2, shard, keys) = Setup();
        var pages = AllPages(g1, shard);
        var half = pages.Count / 2;
        foreach (var page in pages.Take(half)) Run(g2, GroupCommand.Chunk(2, shard, page));
        var replica = new ShardGroupService(2, Shards);
        replica.Restore(g2.Snapshot());
        Assert.True(replica.RestoredMidPull);
        Assert.Equal(ShardState.Pulling, replica.StateOf(shard));
        Assert.Equal(pages[half - 1].Last, replica.CursorOf(shard));
        // A new leader asks the old owner for the page after the restored cursor: the same page the others got.
        var next = g1.ExportPage(2, shard, replica.CursorOf(shard), PageBytes)!;
        Assert.Equal(pages[half].Data, next.Data);
        Assert.Equal(GroupStatus.Ignored, Run(replica, GroupCommand.Chunk(2, shard, pages[half - 1])).Status);
        foreach (var page in pages.Skip(half)) Assert.Equal(GroupStatus.Ok, Run(replica, GroupCommand.Chunk(2, shard, page)).Status);
        Assert.Equal(keys.Count, replica.DataSize().Keys);
        Assert.Equal(ShardState.Installed, replica.StateOf(shard));
    }
}
