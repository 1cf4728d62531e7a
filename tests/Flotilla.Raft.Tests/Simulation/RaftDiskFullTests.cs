using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Simulation;
using Flotilla.Simulation.Storage;
using Flotilla.Wal;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary>
/// The driver on a full disk (RaftNode.PumpAsync, WalRaftStorage): low on space it keeps committing and serving
/// read points while saying so (StorageProblem); out of space it holds the failed batch and retries it until space
/// returns, losing nothing acknowledged; a failed fsync stops the node for good, and stopping still finishes.
/// </summary>
public class RaftDiskFullTests
{
    private static readonly RaftNodeOptions Options = new() { GroupId = "solo", Voters = [new NodeId(1)] };
    private static readonly WalOptions Wal = new() { SegmentBytes = 16 * 1024, Preallocate = true };

    private static (Simulator Sim, Func<RaftNode?> Raft, SmallDisk Disk, List<ApplyMsg> Applied) Boot(ulong seed)
    {
        var sim = new Simulator(seed);
        RaftNode? raft = null;
        SmallDisk? disk = null;
        var applied = new List<ApplyMsg>();
        sim.AddNode(new NodeId(1), node => _ = Run(node));
        async Task Run(SimNode node)
        {
            disk = new SmallDisk(node.Storage, long.MaxValue);
            raft = new RaftNode(node.Context, Options, await WalRaftStorage.OpenAsync(disk, "raft/solo", Wal));
            node.Service = raft;
            await raft.StartAsync();
            while (await raft.Applies.WaitToReadAsync())
                while (raft.Applies.TryRead(out var msg)) applied.Add(msg);
        }
        Assert.True(sim.RunUntil(() => raft is { IsLeader: true }, TimeSpan.FromSeconds(5)));
        return (sim, () => raft, disk!, applied);
    }

    private static byte[] Command(int i) => Enumerable.Repeat((byte)i, 700).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AFullDiskStopsWritesNotReadsAndTheNodeResumesWithoutLosingAnything(ulong seed)
    {
        var (sim, node, disk, applied) = Boot(seed);
        var raft = node()!;
        sim.RunTest(async () =>
        {
            var n1 = sim.Node(1);
            var accepted = new List<ProposeResult>();
            async Task ProposeAsync(int i)
            {
                accepted.Add(await n1.InvokeAsync(() => raft.Propose(Command(i))));
                await sim.Delay(TimeSpan.FromMilliseconds(30));
            }
            for (var i = 0; i < 3; i++) await ProposeAsync(i);
            disk.FillUp();

            // Low on space: the current segment still takes writes, and read points are still confirmed.
            var next = 3;
            while (await n1.InvokeAsync(() => Task.FromResult(raft.StorageProblem)) is null && next < 200) await ProposeAsync(next++);
            Assert.StartsWith("disk full (raft/solo/wal)", await n1.InvokeAsync(() => Task.FromResult(raft.StorageProblem)));
            Assert.Equal(accepted[^1].Index, raft.CommitIndex);
            var read = await n1.InvokeAsync(() => raft.ReadIndexAsync());
            Assert.Equal(ReadIndexStatus.Ok, read.Status);

            // A service that kept proposing regardless: the log runs out, the batch is held (not lost, not acknowledged).
            for (var i = 0; i < 40; i++) await ProposeAsync(next++);
            Assert.True(raft.CommitIndex < accepted[^1].Index, "commit should stall while the disk is full");
            Assert.True(disk.Refused > 0);
            var committedWhileFull = raft.CommitIndex;

            disk.CapacityBytes = long.MaxValue;
            await sim.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(accepted[^1].Index, raft.CommitIndex);
            Assert.Null(await n1.InvokeAsync(() => Task.FromResult(raft.StorageProblem)));
            Assert.True(committedWhileFull < raft.CommitIndex);
            Assert.Equal(ReadIndexStatus.Ok, (await n1.InvokeAsync(() => raft.ReadIndexAsync())).Status);
            var commands = applied.Where(a => a.Kind == ApplyKind.Command && a.Data.Length == 700).ToList();
            Assert.Equal(accepted.Select(r => r.Index), commands.Select(a => a.Index));
            await n1.InvokeAsync(() => raft.StopAsync());

            // Everything acknowledged is on disk.
            var reopened = await WalRaftStorage.OpenAsync(disk, "raft/solo", Wal);
            var state = await reopened.LoadAsync();
            Assert.Superset(accepted.Select(r => r.Index).ToHashSet(), state.Entries.Select(e => e.Index).ToHashSet());
            await reopened.DisposeAsync();
        }, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void AFailedFsyncStopsTheNodeForGoodAndStoppingStillFinishes()
    {
        var (sim, node, disk, _) = Boot(7);
        var raft = node()!;
        sim.RunTest(async () =>
        {
            var n1 = sim.Node(1);
            disk.FlushErrno = 5;
            await n1.InvokeAsync(() => raft.Propose(Command(1)));
            await sim.Delay(TimeSpan.FromMilliseconds(200));
            Assert.NotNull(raft.StorageFailure);
            Assert.IsNotType<WalDiskFullException>(raft.StorageFailure);
            Assert.False((await n1.InvokeAsync(() => Task.FromResult(raft.Propose(Command(2))))).IsAccepted);
            await n1.InvokeAsync(() => raft.StopAsync()); // used to return at once and leave the apply stream open
            Assert.True(raft.Applies.Completion.IsCompleted);
        }, TimeSpan.FromSeconds(20));
    }
}
