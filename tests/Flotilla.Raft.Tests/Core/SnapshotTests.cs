using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

public class SnapshotTests
{
    [Fact]
    public async Task LaggingFollowerReceivesTheSnapshotInChunksAndThenTheRestOfTheLog()
    {
        var net = new CoreNetwork(3, c => c with { SnapshotChunkBytes = 1000 });
        var leader = net.ElectLeader();
        var lagger = net.Ids.First(i => i != leader);
        net.Isolate(lagger.Value);
        for (var i = 0; i < 30; i++) net.ProposeOn(leader, $"c{i}");
        var snapshotData = new byte[4500];
        new Random(7).NextBytes(snapshotData);
        var applied = net.Cores[leader].AppliedIndex;
        var snapshot = net.Cores[leader].Compact(applied, snapshotData);
        Assert.NotNull(snapshot);
        await net.Storages[leader].SaveSnapshotAsync(snapshot, discardLog: false); // as the driver does: chunks are read from storage
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
    public async Task LostSnapshotChunksAreResent()
    {
        var net = new CoreNetwork(3, c => c with { SnapshotChunkBytes = 100 });
        var leader = net.ElectLeader();
        var lagger = net.Ids.First(i => i != leader);
        net.Isolate(lagger.Value);
        for (var i = 0; i < 5; i++) net.ProposeOn(leader, $"c{i}");
        await net.Storages[leader].SaveSnapshotAsync(net.Cores[leader].Compact(net.Cores[leader].AppliedIndex, new byte[1000])!, discardLog: false);
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

    /// <summary>A lagging follower behind a snapshot of <paramref name="bytes"/> bytes, the leader's compaction saved to
    /// its storage as the driver would; the network healed but nothing ticked yet.</summary>
    private static async Task<(CoreNetwork Net, NodeId Leader, NodeId Lagger, byte[] Data)> LaggerBehindASnapshot(int bytes, int chunk, int window)
    {
        var net = new CoreNetwork(3, c => c with { SnapshotChunkBytes = chunk, SnapshotChunksInFlight = window });
        var leader = net.ElectLeader();
        var lagger = net.Ids.First(i => i != leader);
        net.Isolate(lagger.Value);
        for (var i = 0; i < 5; i++) net.ProposeOn(leader, $"c{i}");
        var data = new byte[bytes];
        new Random(bytes).NextBytes(data);
        await net.Storages[leader].SaveSnapshotAsync(net.Cores[leader].Compact(net.Cores[leader].AppliedIndex, data)!, discardLog: false);
        net.Heal();
        return (net, leader, lagger, data);
    }

    [Fact]
    public async Task TheLeaderKeepsAWindowOfChunksInFlightAndNoMore()
    {
        var (net, leader, lagger, data) = await LaggerBehindASnapshot(1000, chunk: 100, window: 3);
        // No acknowledgement arrives: the leader sends the window, then (every two heartbeats) the window again.
        var sent = new List<ulong>();
        net.Drop = m =>
        {
            if (m.Type == MessageType.Snapshot && m.To == lagger) sent.Add(m.SnapshotOffset);
            return m.Type == MessageType.SnapshotResponse;
        };
        net.Tick(30);
        Assert.Equal([0UL, 100UL, 200UL], sent.Distinct().Order());
        Assert.True(sent.Count >= 6, $"the window was resent ({sent.Count} chunks)");

        // Acks flow again: the window slides to the end and the follower installs the whole snapshot.
        net.Drop = null;
        net.Tick(30);
        Assert.Equal(data, net.InstalledSnapshots[lagger].Data.ToArray());
        Assert.Equal(ProgressState.Replicate, net.Cores[leader].ProgressOf(lagger)!.State);
    }

    [Fact]
    public async Task OneLostChunkRewindsTheWindowOnceNotOncePerLaterChunk()
    {
        var (net, _, lagger, data) = await LaggerBehindASnapshot(1000, chunk: 100, window: 4);
        var sent = 0;
        var lost = false;
        net.Drop = m =>
        {
            if (m.Type != MessageType.Snapshot || m.To != lagger) return false;
            sent++;
            if (lost || m.SnapshotOffset != 100) return false;
            lost = true;
            return true;
        };
        net.Tick(30);
        Assert.True(lost);
        Assert.Equal(data, net.InstalledSnapshots[lagger].Data.ToArray());
        // 10 chunks, the one lost chunk's window sent again (4), and the chunk the first ack let out before the
        // rejections arrived. Rewinding on every rejection of the same gap (three of them) would send about 8 more.
        Assert.True(sent <= 15, $"{sent} chunks sent for a 10-chunk snapshot with one loss");
    }

    [Fact]
    public async Task CompactionKeepsLaterEntriesAndSurvivesRestart()
    {
        var net = new CoreNetwork(1);
        var leader = net.ElectLeader();
        for (var i = 0; i < 10; i++) net.ProposeOn(leader, $"c{i}");
        var snapshot = net[1].Compact(5, new byte[] { 42 })!;
        await net.Storages[leader].SaveSnapshotAsync(snapshot, discardLog: false);
        Assert.Equal(5UL, net[1].SnapshotIndex);
        net.Restart(1);
        Assert.Equal(5UL, net[1].SnapshotIndex);
        Assert.Equal(11UL, net[1].LastIndex);
        Assert.Equal(5UL, net[1].LatestSnapshot!.Index);
        Assert.Equal(1, net[1].LatestSnapshotBytes);
        var data = new byte[4];
        Assert.Equal(1, await net.Storages[leader].ReadSnapshotDataAsync(5, 0, data));
        Assert.Equal(42, data[0]);
    }

    [Fact]
    public void CompactingBeyondTheAppliedIndexIsABug()
    {
        var net = new CoreNetwork(1);
        net.ElectLeader();
        Assert.Throws<ArgumentOutOfRangeException>(() => net[1].Compact(net[1].AppliedIndex + 1, new byte[1]));
    }
}
