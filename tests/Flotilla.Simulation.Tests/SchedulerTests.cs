using Flotilla.Runtime;

namespace Flotilla.Simulation.Tests;

public class SchedulerTests
{
    [Fact]
    public void AwaitsResumeOnTheNodesOwnSchedulerInVirtualTime()
    {
        var sim = new Simulator(1);
        var log = new List<string>();
        sim.AddNode(new NodeId(1), n => n.Context.Post(async () =>
        {
            var scheduler = SynchronizationContext.Current;
            await Task.Delay(TimeSpan.FromSeconds(30), n.Context.Time);
            Assert.Same(scheduler, SynchronizationContext.Current);
            log.Add($"woke at {sim.Now.TotalSeconds:0}");
        }));
        var started = DateTime.UtcNow;
        sim.RunFor(TimeSpan.FromMinutes(1));
        Assert.Equal(["woke at 30"], log);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "virtual time must not be wall time");
    }

    [Fact]
    public void CrashStopsPendingTimersAndContinuationsAndRestartRunsBootAgain()
    {
        var sim = new Simulator(2);
        var ticks = 0;
        var boots = 0;
        var node = sim.AddNode(new NodeId(1), n =>
        {
            boots++;
            n.Context.Time.CreateTimer(_ => ticks++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        });
        sim.RunFor(TimeSpan.FromSeconds(5.5));
        Assert.Equal(5, ticks);
        node.Crash();
        sim.RunFor(TimeSpan.FromSeconds(5));
        Assert.Equal(5, ticks);
        node.Start();
        sim.RunFor(TimeSpan.FromSeconds(2.5));
        Assert.Equal(7, ticks);
        Assert.Equal(2, boots);
    }

    [Fact]
    public void InvokeOnACrashingNodeFailsInsteadOfHanging()
    {
        var sim = new Simulator(3);
        var node = sim.AddNode(new NodeId(1), _ => { });
        var error = Assert.Throws<NodeCrashedException>(() => sim.RunTest(async () =>
        {
            var pending = node.InvokeAsync(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(10), node.Context.Time);
                return 1;
            });
            await sim.Delay(TimeSpan.FromSeconds(1));
            node.Crash();
            await pending;
        }, TimeSpan.FromMinutes(1)));
        Assert.Equal(new NodeId(1), error.Node);
    }

    [Fact]
    public void ScenarioThatWaitsForeverIsReportedAsStuck()
    {
        var sim = new Simulator(4);
        Assert.Throws<SimulationStuckException>(() => sim.RunTest(() => new TaskCompletionSource().Task, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void ScenarioThatRunsTooLongTimesOutInVirtualTime()
    {
        var sim = new Simulator(5);
        Assert.Throws<TimeoutException>(() => sim.RunTest(() => sim.Delay(TimeSpan.FromHours(1)), TimeSpan.FromMinutes(2)));
        Assert.True(sim.Now <= TimeSpan.FromMinutes(2.01));
    }

    [Fact]
    public void IdleClusterRunsFarFasterThanRealTime()
    {
        // Five nodes with 100 ms heartbeat timers: 2,000 s of virtual time. No timing assertion beyond "it
        // finishes" (speed is in docs/benchmarks.md); the event count proves the timers ran.
        var sim = new Simulator(6);
        for (var i = 1; i <= 5; i++)
            sim.AddNode(new NodeId(i), n => n.Context.Time.CreateTimer(_ => n.Context.Transport.Send(new NodeId(1), "none/x", new byte[] { 1 }), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100)));
        sim.RunFor(TimeSpan.FromSeconds(2000));
        Assert.True(sim.EventsRun >= 5 * 20_000, $"{sim.EventsRun} events");
    }

    [Fact]
    public void FailingSeedIsNamedWithAReplayCommand()
    {
        var error = Assert.Throws<SimulationFailedException>(() =>
            SeedRunner.ForSeeds(10, sim => { if (sim.Seed == 4) throw new InvalidOperationException("boom"); }, start: 1));
        Assert.Equal(4UL, error.Seed);
        Assert.Contains("seed 4 failed", error.Message);
        Assert.Contains("FLOTILLA_SEED=4 dotnet test --filter \"FullyQualifiedName~FailingSeedIsNamedWithAReplayCommand\"", error.Message);
        Assert.Contains("boom", error.Message);
    }
}
