using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.ShardKv.Controller;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Testing;

/// <summary>
/// The shard controller as it will run — a replicated group on the RSM — in simulation: xunit runs each scenario over a
/// few seeds, <c>flotilla sim shardctrl --seeds N</c> soaks them. A scenario throws
/// <see cref="ShardScenarioException"/> when replicas disagree or a command misbehaves.
/// </summary>
public static partial class ShardControllerScenarios
{
    private const int Servers = 3, ShardCount = 10;

    public static ScenarioSuite Suite { get; } = new("shardctrl", "Shard controller on the RSM: configurations agree through crashes, an unreliable network and snapshots.",
    [
        new Scenario("agreement-crashes-unreliable", AgreementThroughCrashesAndUnreliableNetwork),
    ]);

    /// <summary>Joins six groups one at a time, leaves three, moves a shard, crashing a server now and then over an
    /// unreliable network, with snapshots; then every replica must hold the same history of configurations, each
    /// command must have produced the next configuration, and the last one must assign every shard to a live group.</summary>
    public static void AgreementThroughCrashesAndUnreliableNetwork(Simulator sim) => sim.RunTest(async () =>
    {
        StartReplicas(sim);

        var commands = Enumerable.Range(1, 6).Select(g => ControllerCommand.Join(new Dictionary<int, string[]> { [g] = [$"g{g}:7000"] }))
            .Concat([ControllerCommand.Leave(2, 5), ControllerCommand.Move(3, 1), ControllerCommand.Leave(1)])
            .ToList();
        foreach (var (command, n) in commands.Select((c, n) => (c, n)))
        {
            var reply = await SubmitAsync(sim, command);
            Check(reply.Error == ControllerError.Ok && reply.Config!.Num == n + 1, $"command {n} gave {reply.Error}, configuration {reply.Config?.Num}");
            if (n % 3 != 2) continue;
            var victim = sim.Random.Next(1, Servers + 1);
            sim.Node(victim).Crash();
            await sim.Delay(TimeSpan.FromMilliseconds(300));
            sim.Node(victim).Restart();
        }
        // Queries go through the log too: enough of them to push every replica past the snapshot threshold.
        for (var q = 0; q < 60; q++)
            Check((await SubmitAsync(sim, ControllerCommand.Query())).Config!.Num == commands.Count, "a query did not see the latest configuration");
        sim.Network.Reliable = true;

        var deadline = sim.Now + TimeSpan.FromSeconds(20);
        while (Enumerable.Range(1, Servers).Any(i => Controller(sim, i)?.Configs.Count != commands.Count + 1))
        {
            Check(sim.Now < deadline, "replicas did not all apply every configuration");
            await sim.Delay(TimeSpan.FromMilliseconds(50));
        }
        var reference = Controller(sim, 1)!;
        foreach (var i in Enumerable.Range(2, Servers - 1))
            for (var n = 0; n <= commands.Count; n++)
                Check(reference.Configs[n].SameAs(Controller(sim, i)!.Configs[n]), $"server {i} disagrees on configuration {n}");
        var last = reference.Latest;
        Check(last.Groups.Keys.Order().SequenceEqual([3, 4, 6]), $"groups at the end: {string.Join(",", last.Groups.Keys)}");
        Check(last.Shards.All(g => g is 3 or 4 or 6), "a shard is assigned to a departed group");
        Check(Enumerable.Range(1, Servers).Any(i => sim.Node(i).Service is ReplicatedStateMachine { SnapshotsTaken: > 0 }), "no replica snapshotted");
    }, TimeSpan.FromMinutes(5));

    /// <summary>Three controller replicas on n1..n3 over an unreliable network, with small snapshots.</summary>
    private static void StartReplicas(Simulator sim)
    {
        sim.Network.Reliable = false;
        var options = new RsmOptions
        {
            Raft = new RaftNodeOptions { GroupId = "ctrler", Voters = Enumerable.Range(1, Servers).Select(i => new NodeId(i)).ToList() },
            SnapshotThresholdBytes = 4096, // small: replicas snapshot and restart from snapshots
        };
        foreach (var i in Enumerable.Range(1, Servers))
            sim.AddNode(new NodeId(i), node => node.Post(async () =>
                node.Service = await ReplicatedStateMachine.StartAsync(node.Context, options, new ShardController(ShardCount))));
    }

    private static void Check(bool condition, string failure)
    {
        if (!condition) throw new ShardScenarioException(failure);
    }

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
                if (!result.DefinitelyNotApplied) throw new ShardScenarioException($"outcome unknown on server {server}: {result}");
            }
            await sim.Delay(TimeSpan.FromMilliseconds(50));
        }
        throw new ShardScenarioException("no server applied the command within 30 s");
    }
}

public sealed class ShardScenarioException(string message) : Exception(message);
