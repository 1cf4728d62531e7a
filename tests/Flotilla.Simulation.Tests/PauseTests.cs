using Flotilla.Runtime;

namespace Flotilla.Simulation.Tests;

/// <summary><see cref="SimNode.Pause"/> is SIGSTOP: nothing of the node runs while virtual time (its clock) goes on.</summary>
public class PauseTests
{
    [Fact]
    public void APausedNodeRunsNothingAndOnResumeAPeriodicTimerFiresOnceAtTheCurrentTime()
    {
        var sim = new Simulator(3);
        var fired = new List<double>();
        var node = sim.AddNode(new NodeId(1), n =>
            n.Context.Time.CreateTimer(_ => fired.Add(sim.Now.TotalSeconds), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        sim.RunFor(TimeSpan.FromSeconds(2.5));
        Assert.Equal([1.0, 2.0], fired);
        node.Pause();
        Assert.True(node.IsPaused && node.IsUp);
        sim.RunFor(TimeSpan.FromSeconds(5)); // until t = 7.5
        Assert.Equal([1.0, 2.0], fired);
        node.Resume();
        sim.RunFor(TimeSpan.FromSeconds(1.2));
        // The missed periods fire once, at resume (7.5), then the period runs from there: not a burst of five.
        Assert.Equal([1.0, 2.0, 7.5, 8.5], fired);
    }

    [Fact]
    public void MessagesToAPausedNodeWaitAndAreHandledInOrderAfterResume()
    {
        var sim = new Simulator(4);
        var received = new List<(string, double)>();
        var server = sim.AddNode(new NodeId(1), n => n.Context.Router.Map("echo", new Recorder(m => received.Add((m, sim.Now.TotalSeconds)))));
        var client = sim.AddClient(new NodeId(2));
        sim.RunFor(TimeSpan.FromSeconds(0.1));
        server.Pause();
        client.Post(() => { client.Context.Transport.Send(server.Id, "echo/a", new byte[] { 1 }); client.Context.Transport.Send(server.Id, "echo/b", new byte[] { 2 }); });
        sim.RunFor(TimeSpan.FromSeconds(3));
        Assert.Empty(received);
        server.Resume();
        sim.RunFor(TimeSpan.FromSeconds(0.1));
        Assert.Equal(["echo/a", "echo/b"], received.Select(r => r.Item1));
        Assert.All(received, r => Assert.True(r.Item2 >= 3.1));
    }

    [Fact]
    public void ACrashEndsAPause()
    {
        var sim = new Simulator(5);
        var ticks = 0;
        var node = sim.AddNode(new NodeId(1), n => n.Context.Time.CreateTimer(_ => ticks++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        sim.RunFor(TimeSpan.FromSeconds(1.5));
        node.Pause();
        node.Crash();
        Assert.False(node.IsPaused);
        sim.RunFor(TimeSpan.FromSeconds(3));
        Assert.Equal(1, ticks); // the old incarnation's held timer never runs
    }

    private sealed class Recorder(Action<string> onMessage) : Flotilla.Runtime.Network.IRpcHandler
    {
        public ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> payload) => onMessage(method);
    }
}
