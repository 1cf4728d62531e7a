using Flotilla.Raft;
using Flotilla.Rsm.Tests.Support;
using Flotilla.Runtime;
using Flotilla.Simulation;
using Flotilla.Simulation.Storage;

namespace Flotilla.Rsm.Tests;

/// <summary>A replica whose fsync failed (the log poisoned for good) must still stop: RaftNode.StopAsync used to return
/// at once after a storage failure, leaving the apply stream open, so ReplicatedStateMachine.StopAsync (and with it
/// FlotillaServer.DisposeAsync) waited for its apply loop forever.</summary>
public class RsmStorageFailureTests
{
    [Fact]
    public void AReplicaWhoseFsyncFailedStillStops()
    {
        var sim = new Simulator(11);
        ReplicatedStateMachine? rsm = null;
        SmallDisk? disk = null;
        sim.AddNode(new NodeId(1), node => _ = Boot(node));
        async Task Boot(SimNode node)
        {
            var ctx = node.Context;
            disk = new SmallDisk(node.Storage, long.MaxValue);
            var onDisk = new NodeContext(ctx.Id, ctx.Time, ctx.Random, ctx.Transport, ctx.Router, disk, ctx.Scheduler, ctx.Logs);
            rsm = await ReplicatedStateMachine.StartAsync(onDisk,
                new RsmOptions { Raft = new RaftNodeOptions { GroupId = "g", Voters = [new NodeId(1)] } }, new AppendLogService(keepLog: true));
        }
        Assert.True(sim.RunUntil(() => rsm is { IsLeader: true }, TimeSpan.FromSeconds(5)));
        sim.RunTest(async () =>
        {
            var n1 = sim.Node(1);
            disk!.FlushErrno = 5;
            _ = n1.InvokeAsync(() => rsm!.SubmitAsync("x"u8.ToArray()));
            await sim.Delay(TimeSpan.FromMilliseconds(300));
            Assert.NotNull(rsm!.Raft.StorageFailure);
            var stop = n1.InvokeAsync(async () => { await rsm.StopAsync(); return true; });
            await sim.Delay(TimeSpan.FromSeconds(1));
            Assert.True(stop.IsCompleted, "StopAsync hung on a replica whose storage failed");
        }, TimeSpan.FromSeconds(20));
    }
}
