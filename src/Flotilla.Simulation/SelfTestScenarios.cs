using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Simulation;

/// <summary>
/// Scenarios that exercise the simulator itself (its network, disk and scheduler) with a toy protocol. They keep
/// <c>flotilla sim</c> useful on its own and guard the simulator against regressions in replay.
/// </summary>
public static class SelfTestScenarios
{
    public static ScenarioSuite Suite { get; } = new("selftest", "The simulator's own fault injection, on a toy ping protocol.",
    [
        new Scenario("replay", Replay),
        new Scenario("durable-counter", DurableCounter, new SimulationOptions { Network = new() { Reliable = false } }),
        new Scenario("idle-cluster", IdleCluster),
    ]);

    /// <summary>Five nodes exchanging heartbeats every 100 ms for 1,000 s of virtual time: measures how fast the
    /// simulator runs an idle cluster (the soak mode prints the virtual/wall time ratio).</summary>
    private static void IdleCluster(Simulator sim)
    {
        for (var i = 1; i <= 5; i++)
        {
            var self = i;
            sim.AddNode(new NodeId(i), node =>
            {
                var ctx = node.Context;
                ctx.Router.Map("ping", new PingHandler());
                ctx.Time.CreateTimer(_ =>
                {
                    for (var peer = 1; peer <= 5; peer++)
                        if (peer != self) ctx.Transport.Send(new NodeId(peer), "ping/heartbeat", new byte[16]);
                }, null, TimeSpan.FromMilliseconds(ctx.Random.Next(100)), TimeSpan.FromMilliseconds(100));
            });
        }
        sim.RunFor(TimeSpan.FromSeconds(1000));
        var expected = 5 * 4 * 10_000;
        var sent = sim.Network.Stats.Total.Messages;
        if (sent < expected * 0.99) throw new InvalidOperationException($"only {sent} heartbeats sent, expected about {expected}");
    }

    /// <summary>The same seed twice gives the same trace hash.</summary>
    private static void Replay(Simulator sim)
    {
        var first = PingWorkload(new Simulator(sim.Seed));
        var second = PingWorkload(new Simulator(sim.Seed));
        if (first != second) throw new InvalidOperationException($"seed {sim.Seed} replayed differently: {first:x16} vs {second:x16}");
        PingWorkload(sim);
    }

    private static ulong PingWorkload(Simulator sim)
    {
        sim.Network.Reliable = false;
        for (var i = 1; i <= 3; i++)
        {
            sim.AddNode(new NodeId(i), node =>
            {
                var ctx = node.Context;
                ctx.Router.Map("ping", new PingHandler());
                ctx.Post(async () =>
                {
                    for (var round = 0; round < 100; round++)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(ctx.Random.Next(1, 20)), ctx.Time);
                        await ctx.Transport.CallAsync(new NodeId(ctx.Random.Next(1, 4)), "ping/x", new byte[8], TimeSpan.FromMilliseconds(200), ctx.Time);
                    }
                });
            });
        }
        sim.RunFor(TimeSpan.FromSeconds(30));
        return sim.TraceHash;
    }

    /// <summary>A node increments a counter durably; after random crashes, the counter never goes backwards past
    /// the last value it acknowledged.</summary>
    private static void DurableCounter(Simulator sim)
    {
        long acknowledged = 0;
        var node = sim.AddNode(new NodeId(1), n =>
        {
            var ctx = n.Context;
            ctx.Post(async () =>
            {
                var value = ctx.Storage.Exists("counter") ? BitConverter.ToInt64(await Runtime.Storage.FileSystemExtensions.ReadAllAsync(ctx.Storage, "counter")) : 0;
                if (value < acknowledged) throw new InvalidOperationException($"counter went back from {acknowledged} to {value}");
                while (true)
                {
                    value++;
                    await Runtime.Storage.FileSystemExtensions.WriteAtomicallyAsync(ctx.Storage, "counter", BitConverter.GetBytes(value));
                    acknowledged = value;
                    await Task.Delay(TimeSpan.FromMilliseconds(ctx.Random.Next(1, 10)), ctx.Time);
                }
            });
        });
        for (var i = 0; i < 20; i++)
        {
            sim.RunFor(TimeSpan.FromMilliseconds(sim.Random.Next(10, 200)));
            node.Restart();
        }
        sim.RunFor(TimeSpan.FromSeconds(1));
        if (acknowledged == 0) throw new InvalidOperationException("the counter never advanced");
    }

    private sealed class PingHandler : IRpcHandler
    {
        public ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(request);

        public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message) { }
    }
}
