using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Simulation.Tests;

public class DeterminismTests
{
    /// <summary>A busy, hostile workload: every node calls random peers and writes to disk on timers; nodes crash and restart.</summary>
    private static (ulong Hash, long Events) RunWorkload(ulong seed)
    {
        var sim = new Simulator(seed, new SimulationOptions { Network = new() { Reliable = false, LongReordering = true } });
        for (var i = 1; i <= 5; i++)
        {
            sim.AddNode(new NodeId(i), node =>
            {
                var ctx = node.Context;
                node.Service = new EchoService(ctx);
                var file = ctx.Storage.Open("log");
                ctx.Post(async () =>
                {
                    for (var round = 0; round < 500; round++)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(ctx.Random.Next(1, 50)), ctx.Time);
                        var peer = new NodeId(ctx.Random.Next(1, 6));
                        var reply = await ctx.Transport.CallAsync(peer, "echo/call", new byte[ctx.Random.Next(1, 64)], TimeSpan.FromMilliseconds(300), ctx.Time);
                        ctx.Transport.Send(peer, "echo/msg", new byte[] { (byte)round });
                        await file.WriteAsync(file.Length, new byte[] { (byte)reply.Status });
                        if (round % 7 == 0) await file.FlushAsync();
                    }
                });
            });
        }
        sim.RunTest(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await sim.Delay(TimeSpan.FromMilliseconds(sim.Random.Next(100, 500)));
                sim.Node(sim.Random.Next(1, 6)).Restart();
            }
        }, TimeSpan.FromMinutes(1));
        sim.RunFor(TimeSpan.FromSeconds(120));
        return (sim.TraceHash, sim.EventsRun);
    }

    [Fact]
    public void SameSeedGivesIdenticalTraceHash()
    {
        foreach (var seed in new ulong[] { 1, 2, 42, 1234567 })
        {
            var first = RunWorkload(seed);
            var second = RunWorkload(seed);
            Assert.True(first.Events > 5_000, $"workload too small to prove anything ({first.Events} events)");
            Assert.Equal(first, second);
        }
    }

    [Fact]
    public void DifferentSeedsGiveDifferentTraces()
    {
        var hashes = Enumerable.Range(1, 8).Select(s => RunWorkload((ulong)s).Hash).ToHashSet();
        Assert.Equal(8, hashes.Count);
    }

    [Fact]
    public void CodeThatEscapesToTheThreadPoolIsReportedAsNondeterminism()
    {
        var sim = new Simulator(7);
        sim.AddNode(new NodeId(1), node => node.Context.Post(async () =>
        {
            await Task.Run(() => Thread.Sleep(10)); // resumes on a thread-pool thread's post: forbidden
            node.Service = "unreachable";
        }));
        var error = Assert.Throws<NondeterminismException>(() =>
        {
            // The foreign post arrives asynchronously; keep the simulation alive until it is noticed.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                sim.RunFor(TimeSpan.FromMilliseconds(1));
                Thread.Sleep(5);
            }
        });
        Assert.Contains("Task.Run", error.Message);
    }
}
