using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.ShardKv.Controller;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Tests;

/// <summary>The controller as it will run: a replicated group on the RSM, in simulation with the 6.5840 network
/// faults, crashes and snapshots (FLOTILLA_SEEDS=N for more seeds, FLOTILLA_SEED=S to replay one).</summary>
public class ControllerSimulationTests
{
    private const int Servers = 3, ShardCount = 10;

    [Fact]
    public void ReplicasAgreeOnEveryConfigurationThroughCrashesAndAnUnreliableNetwork() => SeedRunner.ForSeeds(4, sim => sim.RunTest(async () =>
    {
        sim.Network.Reliable = false;
        var options = new RsmOptions
        {
            Raft = new RaftNodeOptions { GroupId = "ctrler", Voters = Enumerable.Range(1, Servers).Select(i => new NodeId(i)).ToList() },
            SnapshotThresholdBytes = 4096, // small: the controller snapshots and restarts from snapshots
        };
        foreach (var i in Enumerable.Range(1, Servers))
            sim.AddNode(new NodeId(i), node => node.Post(async () =>
                node.Service = await ReplicatedStateMachine.StartAsync(node.Context, options, new ShardController(ShardCount))));

        // Join groups 1..6 one at a time, then leave some and move a shard; crash a server now and then.
        var commands = Enumerable.Range(1, 6).Select(g => ControllerCommand.Join(new Dictionary<int, string[]> { [g] = [$"g{g}:7000"] }))
            .Concat([ControllerCommand.Leave(2, 5), ControllerCommand.Move(3, 1), ControllerCommand.Leave(1)])
            .ToList();
        var crashes = 0;
        foreach (var (command, n) in commands.Select((c, n) => (c, n)))
        {
            var reply = await SubmitAsync(sim, command);
            Assert.Equal(ControllerError.Ok, reply.Error);
            Assert.Equal(n + 1, reply.Config!.Num);
            if (n % 3 == 2)
            {
                var victim = sim.Random.Next(1, Servers + 1);
                sim.Node(victim).Crash();
                await sim.Delay(TimeSpan.FromMilliseconds(300));
                sim.Node(victim).Restart();
                crashes++;
            }
        }
        // Queries go through the log too: enough of them to push every replica past the snapshot threshold.
        for (var q = 0; q < 60; q++) Assert.Equal(commands.Count, (await SubmitAsync(sim, ControllerCommand.Query())).Config!.Num);
        sim.Network.Reliable = true;

        // Every replica ends with the same history of configurations.
        var deadline = sim.Now + TimeSpan.FromSeconds(20);
        while (Enumerable.Range(1, Servers).Any(i => Controller(sim, i)?.Configs.Count != commands.Count + 1))
        {
            Assert.True(sim.Now < deadline, "replicas did not all apply every configuration");
            await sim.Delay(TimeSpan.FromMilliseconds(50));
        }
        var reference = Controller(sim, 1)!;
        foreach (var i in Enumerable.Range(2, Servers - 1))
            for (var n = 0; n <= commands.Count; n++) Assert.True(reference.Configs[n].SameAs(Controller(sim, i)!.Configs[n]), $"server {i} configuration {n}");
        var last = reference.Latest;
        Assert.Equal([3, 4, 6], last.Groups.Keys.Order());
        Assert.All(last.Shards, g => Assert.Contains(g, new[] { 3, 4, 6 }));
        Assert.Equal(3, crashes);
        Assert.Contains(Enumerable.Range(1, Servers), i => sim.Node(i).Service is ReplicatedStateMachine { SnapshotsTaken: > 0 });
    }, TimeSpan.FromMinutes(5)));

    private static ShardController? Controller(Simulator sim, int i) =>
        sim.Node(i).IsUp && sim.Node(i).Service is ReplicatedStateMachine rsm ? rsm.Service as ShardController : null;

    /// <summary>Submits to servers in turn until one applies it; retries only after an answer that says it certainly
    /// did not apply, so a configuration change is never applied twice.</summary>
    private static async Task<ControllerReply> SubmitAsync(Simulator sim, byte[] command)
    {
        var deadline = sim.Now + TimeSpan.FromSeconds(30);
        var server = 1;
        while (sim.Now < deadline)
        {
            for (var k = 0; k < Servers; k++, server = server % Servers + 1)
            {
                var node = sim.Node(server);
                if (!node.IsUp || node.Service is not ReplicatedStateMachine) continue;
                SubmitResult result;
                try { result = await node.InvokeAsync(() => ((ReplicatedStateMachine)node.Service!).SubmitAsync(command)); }
                catch (NodeCrashedException) { continue; }
                if (result.IsOk) return ControllerReply.Decode(result.Result.Span);
                if (!result.DefinitelyNotApplied) throw new InvalidOperationException($"outcome unknown on {server}: {result}");
            }
            await sim.Delay(TimeSpan.FromMilliseconds(50));
        }
        throw new TimeoutException("no server applied the command");
    }
}
