using System.Text;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// Beyond 6.5840: the driver's ReadIndex and leadership transfer, end to end on the simulator.
public static partial class RaftScenarios
{
    /// <summary>A read index is at least the index of every write that completed before the read began, and a
    /// leader cut off from the majority cannot confirm reads.</summary>
    public static void ReadIndex(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        for (var i = 0; i < 5; i++)
        {
            var written = await c.OneAsync($"w{i}", n, true);
            var leader = await c.CheckOneLeaderAsync();
            var read = await sim.Node(leader).InvokeAsync(() => c.NodeOf(leader)!.ReadIndexAsync());
            if (read.Status == ReadIndexStatus.NotLeader) continue; // leadership moved meanwhile: allowed
            if (!read.IsOk || read.Index < written)
                throw new RaftScenarioException($"read index {read.Index} ({read.Status}) is behind completed write at {written}");
            var follower = leader % n + 1;
            var refused = await sim.Node(follower).InvokeAsync(() => c.NodeOf(follower)!.ReadIndexAsync());
            if (refused.IsOk) throw new RaftScenarioException("a follower served a read index");
        }
        var old = await c.CheckOneLeaderAsync();
        c.Disconnect(old);
        var stale = await sim.Node(old).InvokeAsync(() => c.NodeOf(old)!.ReadIndexAsync());
        if (stale.IsOk) throw new RaftScenarioException("a partitioned leader confirmed a read");
        c.Connect(old);
        await c.OneAsync("after", n, true);
    });

    /// <summary>Leadership moves to the requested node within an election timeout, and the cluster keeps committing.</summary>
    public static void LeadershipTransfer(Simulator sim) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("start", n, true);
        for (var i = 0; i < 5; i++)
        {
            var leader = await c.CheckOneLeaderAsync();
            var target = (leader + sim.Random.Next(n - 1)) % n + 1;
            var term = c.NodeOf(leader)!.Term;
            var moved = await sim.Node(leader).InvokeAsync(() => c.NodeOf(leader)!.TransferLeadershipAsync(new NodeId(target)));
            if (!moved) throw new RaftScenarioException($"transfer {leader} -> {target} did not complete");
            if (c.NodeOf(target) is not { IsLeader: true } t || t.Term != term + 1)
                throw new RaftScenarioException($"{target} should lead term {term + 1} after the transfer");
            await c.OneAsync($"t{i}", n, true);
        }
    });
}
