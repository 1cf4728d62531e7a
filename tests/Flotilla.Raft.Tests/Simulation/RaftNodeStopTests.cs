using Flotilla.Raft.Testing;
using Flotilla.Runtime;
using Flotilla.Simulation;
using Flotilla.Simulation.Storage;
using Flotilla.Wal;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary>
/// A node that stops (StopAsync, or a storage failure that stops it by itself) answers every caller still waiting on
/// it: a pending leadership transfer and a pending membership change fail at once, saying the node stopped, instead of
/// waiting for a commit or a new leader that can no longer come.
/// </summary>
public class RaftNodeStopTests
{
    private static NodeId N(int i) => new(i);

    [Fact]
    public void StoppingTheLeaderFailsItsPendingTransferAndMembershipChangeAtOnce() => SeedRunner.ForSeeds(3, sim =>
        sim.RunTest(async () =>
        {
            var c = new RaftCluster(sim, 3);
            await c.OneAsync("x", 3, true);
            var leader = await c.CheckOneLeaderAsync();
            var node = c.NodeOf(leader)!;
            var target = c.All.First(i => i != leader);
            // Cut off, the leader can neither commit the change nor hand over leadership: both stay pending.
            c.Disconnect(leader);
            var (change, transfer) = await sim.Node(leader).InvokeAsync(() =>
                (node.ProposeConfChangeAsync(ConfChange.AddLearner(N(9))), node.TransferLeadershipAsync(N(target), CancellationToken.None)));
            await c.SleepMs(50);
            Assert.False(change.IsCompleted);
            Assert.False(transfer.IsCompleted);

            var stoppedAt = sim.Now;
            await sim.Node(leader).InvokeAsync(() => node.StopAsync());
            var changed = await change;
            var moved = await transfer;
            // Well before the transfer's own deadline (two election timeouts, 800 ms at least).
            Assert.True(sim.Now - stoppedAt < TimeSpan.FromMilliseconds(100), $"answered {sim.Now - stoppedAt} after the stop");
            Assert.Equal(ConfChangeStatus.Unknown, changed.Status);
            Assert.Equal("the node stopped", changed.Error);
            Assert.False(moved.Ok);
            Assert.Equal($"{N(leader)} stopped during the transfer", moved.Message);

            // A stopped node refuses new waits at once too.
            var late = await sim.Node(leader).InvokeAsync(() => node.ProposeConfChangeAsync(ConfChange.AddLearner(N(9))));
            Assert.Equal(ConfChangeStatus.NotLeader, late.Status);
            Assert.Equal("the node is stopped", late.Error);
            Assert.False((await sim.Node(leader).InvokeAsync(() => node.TransferLeadershipAsync(N(target), CancellationToken.None))).Ok);
        }, TimeSpan.FromSeconds(30)));

    [Fact]
    public void AStorageFailureFailsAPendingMembershipChangeWithoutWaitingForStop()
    {
        var sim = new Simulator(11);
        RaftNode? raft = null;
        SmallDisk? disk = null;
        sim.AddNode(N(1), node => _ = Run(node));
        async Task Run(SimNode node)
        {
            disk = new SmallDisk(node.Storage, long.MaxValue);
            var options = new RaftNodeOptions { GroupId = "solo", Voters = [N(1)] };
            raft = new RaftNode(node.Context, options, await WalRaftStorage.OpenAsync(disk, "raft/solo", new WalOptions()));
            node.Service = raft;
            await raft.StartAsync();
            while (await raft.Applies.WaitToReadAsync()) while (raft.Applies.TryRead(out _)) { }
        }
        Assert.True(sim.RunUntil(() => raft is { IsLeader: true }, TimeSpan.FromSeconds(5)));
        sim.RunTest(async () =>
        {
            var n1 = sim.Node(1);
            disk!.FlushErrno = 5; // the fsync of the change's entry fails: the node stops for good
            // Nobody calls StopAsync: this used to wait forever (the simulator reports a deadlock).
            var outcome = await n1.InvokeAsync(() => raft!.ProposeConfChangeAsync(ConfChange.AddLearner(N(2))));
            Assert.NotNull(raft!.StorageFailure);
            Assert.Equal(ConfChangeStatus.Unknown, outcome.Status);
            Assert.StartsWith("the node stopped after a storage failure: ", outcome.Error);
            Assert.DoesNotContain('\n', outcome.Error!);
            await n1.InvokeAsync(() => raft.StopAsync());
        }, TimeSpan.FromSeconds(20));
    }
}
