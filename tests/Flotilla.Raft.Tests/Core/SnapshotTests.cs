using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

public class SnapshotTests
{
    [Fact]
    public void LaggingFollowerReceivesTheSnapshotInChunksAndThenTheRestOfTheLog()
    {
        var net = new CoreNetwork(3, c => c with { SnapshotChunkBytes = 1000 });
        var leader = net.ElectLeader();
        var lagger = net.Ids.First(i => i != leader);
        net.Isolate(lagger.Value);
        for (var i = 0; i < 30; i++) net.ProposeOn(leader, $"c{i}");
        var snapshotData = new byte[4500];
        new Random(7).NextBytes(snapshotData);
        var applied = net.Cores[leader].AppliedIndex;
        Assert.NotNull(net.Cores[leader].Compact(applied, snapshotData));
        net.ProposeOn(leader, "after-snapshot");
        net.Heal();
        net.Delivered.Clear();
        net.Tick(20);

        var chunks = net.Delivered.Where(m => m.Type == MessageType.Snapshot && m.To == lagger).ToList();
        Assert.Equal(5, chunks.Select(m => m.SnapshotOffset).Distinct().Count());
        Assert.All(chunks, m => Assert.True(m.SnapshotData.Length <= 1000));
        Assert.Equal(snapshotData, net.InstalledSnapshots[lagger].Data.ToArray());
        Assert.Equal(applied, net.Cores[lagger].SnapshotIndex);
        Assert.Equal(net.Cores[leader].LastIndex, net.Cores[lagger].LastIndex);
        Assert.Equal(["after-snapshot"], net.AppliedCommands(lagger));
        Assert.Equal(ProgressState.Replicate, net.Cores[leader].ProgressOf(lagger)!.State);
    }

    [Fact]
    public void LostSnapshotChunksAreResent()
    {
        var net = new CoreNetwork(3, c => c with { SnapshotChunkBytes = 100 });
        var leader = net.ElectLeader();
        var lagger = net.Ids.First(i => i != leader);
        net.Isolate(lagger.Value);
        for (var i = 0; i < 5; i++) net.ProposeOn(leader, $"c{i}");
        net.Cores[leader].Compact(net.Cores[leader].AppliedIndex, new byte[1000]);
        net.Heal();
        var dropped = 0;
        net.Drop = m =>
        {
            if (m.Type != MessageType.Snapshot || m.SnapshotOffset != 300 || dropped == 2) return false;
            dropped++;
            return true;
        };
        net.Tick(40);
        Assert.Equal(2, dropped);
        Assert.Equal(net.Cores[leader].SnapshotIndex, net.Cores[lagger].SnapshotIndex);
        Assert.Equal(1000, net.InstalledSnapshots[lagger].Data.Length);
    }

    [Fact]
    public void CompactionKeepsLaterEntriesAndSurvivesRestart()
    {
        var net = new CoreNetwork(1);
        var leader = net.ElectLeader();
        for (var i = 0; i < 10; i++) net.ProposeOn(leader, $"c{i}");
        var snapshot = net[1].Compact(5, new byte[] { 42 })!;
        net.Storages[leader].SaveSnapshotAsync(snapshot, discardLog: false);
        Assert.Equal(5UL, net[1].SnapshotIndex);
        net.Restart(1);
        Assert.Equal(5UL, net[1].SnapshotIndex);
        Assert.Equal(11UL, net[1].LastIndex);
        Assert.Equal(new byte[] { 42 }, net[1].LatestSnapshot!.Data.ToArray());
    }

    [Fact]
    public void CompactingBeyondTheAppliedIndexIsABug()
    {
        var net = new CoreNetwork(1);
        net.ElectLeader();
        Assert.Throws<ArgumentOutOfRangeException>(() => net[1].Compact(net[1].AppliedIndex + 1, new byte[1]));
    }
}
