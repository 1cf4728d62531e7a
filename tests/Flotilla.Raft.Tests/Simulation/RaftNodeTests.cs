using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Raft.Tests.Simulation;

public class RaftNodeTests
{
    private static RaftNodeOptions Options => new() { GroupId = "solo", Voters = [new NodeId(1)] };

    [Fact]
    public void FullApplyQueueHoldsTheNodeBackAndStopStillFinishes()
    {
        var sim = new Simulator(1);
        RaftNode? raft = null;
        sim.AddNode(new NodeId(1), node => _ = Boot(node));
        async Task Boot(SimNode node)
        {
            raft = await RaftNode.CreateAsync(node.Context, Options with { ApplyQueueCapacity = 2 });
            node.Service = raft;
            await raft.StartAsync();
        }
        Assert.True(sim.RunUntil(() => raft is { IsLeader: true }, TimeSpan.FromSeconds(5)));
        sim.RunTest(async () =>
        {
            var results = await sim.Node(1).InvokeAsync(() =>
                Enumerable.Range(0, 5).Select(i => raft!.Propose(new[] { (byte)i })).ToList());
            Assert.All(results, r => Assert.True(r.IsAccepted));
            await sim.Delay(TimeSpan.FromMilliseconds(200));
            // Nobody reads the apply queue (capacity 2): the node waits for its service instead of buffering without
            // bound, so a later proposal is not even committed.
            var later = await sim.Node(1).InvokeAsync(() => raft!.Propose(new byte[] { 9 }));
            await sim.Delay(TimeSpan.FromMilliseconds(200));
            Assert.True(later.IsAccepted);
            Assert.True(raft!.CommitIndex < later.Index, $"commit {raft.CommitIndex} should stall before {later.Index}");
            // ... and stopping must still finish.
            await sim.Node(1).InvokeAsync(() => raft.StopAsync());
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void SingleNodeAppliesEveryProposalInOrder()
    {
        var sim = new Simulator(3);
        RaftNode? raft = null;
        var applied = new List<ApplyMsg>();
        sim.AddNode(new NodeId(1), node => _ = Boot(node));
        async Task Boot(SimNode node)
        {
            raft = await RaftNode.CreateAsync(node.Context, Options);
            node.Service = raft;
            await raft.StartAsync();
            // WaitToReadAsync resumes on the node's scheduler; ReadAllAsync would resume on the thread pool.
            while (await raft.Applies.WaitToReadAsync())
                while (raft.Applies.TryRead(out var msg)) applied.Add(msg);
        }
        Assert.True(sim.RunUntil(() => raft is { IsLeader: true }, TimeSpan.FromSeconds(5)));
        sim.RunTest(async () =>
        {
            var results = await sim.Node(1).InvokeAsync(() => Enumerable.Range(0, 50).Select(i => raft!.Propose(new[] { (byte)i })).ToList());
            await sim.Delay(TimeSpan.FromMilliseconds(200));
            var commands = applied.Where(a => a.Kind == ApplyKind.Command).ToList();
            Assert.Equal(results.Select(r => r.Index), commands.Select(a => a.Index));
            Assert.Equal(Enumerable.Range(0, 50).Select(i => (byte)i), commands.Select(a => a.Data.Span[0]));
            Assert.True(raft!.PersistedSizeBytes > 0);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void OptionsRefuseMoreThanTenHeartbeatsPerSecond() =>
        Assert.Throws<ArgumentException>(() => (Options with { TickInterval = TimeSpan.FromMilliseconds(5) }).Validate(new NodeId(1)));

    [Fact]
    public void MalformedBytesFromThePeerAreDroppedAndCounted()
    {
        var sim = new Simulator(2);
        RaftNode? raft = null;
        sim.AddNode(new NodeId(1), node =>
        {
            raft = new RaftNode(node.Context, new RaftNodeOptions { GroupId = "g", Voters = [new NodeId(1), new NodeId(2)] }, new MemoryRaftStorage());
            node.Service = raft;
            _ = raft.StartAsync();
        });
        var client = sim.AddClient(new NodeId(2));
        sim.RunFor(TimeSpan.FromMilliseconds(10));
        sim.RunTest(async () =>
        {
            await client.InvokeAsync(() =>
            {
                client.Context.Transport.Send(new NodeId(1), "raft.g/append", new byte[] { 1, 5, 0, 0xFF });
                client.Context.Transport.Send(new NodeId(1), "raft.g/append", new byte[] { 9, 9, 9 });
                return Task.CompletedTask;
            });
            await sim.Delay(TimeSpan.FromMilliseconds(100));
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(2, raft!.MalformedMessages);
        Assert.True(sim.Node(1).IsUp);
    }
}
