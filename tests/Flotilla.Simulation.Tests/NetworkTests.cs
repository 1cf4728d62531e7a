using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Simulation.Network;

namespace Flotilla.Simulation.Tests;

public class NetworkTests
{
    private static readonly NodeId A = new(1), B = new(2), C = new(3);

    private static EchoService Echo(Simulator sim, NodeId id) => sim.Node(id).GetService<EchoService>();

    /// <summary>Runs <paramref name="count"/> sequential calls from <paramref name="from"/> to <paramref name="to"/> and returns their statuses.</summary>
    private static List<RpcStatus> Calls(Simulator sim, NodeId from, NodeId to, int count, TimeSpan? timeout = null)
    {
        var node = sim.Node(from);
        return sim.RunTest(() => node.InvokeAsync(async () =>
        {
            var statuses = new List<RpcStatus>();
            for (var i = 0; i < count; i++)
            {
                var reply = await node.Context.Transport.CallAsync(to, "echo/call", new byte[] { 1, 2, 3 }, timeout ?? TimeSpan.FromSeconds(1), node.Context.Time);
                statuses.Add(reply.Status);
            }
            return statuses;
        }), TimeSpan.FromHours(10));
    }

    [Fact]
    public void ReliableNetworkDeliversEveryCallAndMessage()
    {
        var sim = EchoService.Cluster(1, 2);
        Assert.All(Calls(sim, A, B, 100), s => Assert.Equal(RpcStatus.Ok, s));
        sim.Node(A).Post(() => { for (var i = 0; i < 100; i++) sim.Node(A).Context.Transport.Send(B, "echo/msg", new[] { (byte)i }); });
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(100, Echo(sim, B).Messages.Count);
    }

    [Fact]
    public void DropRateOverTenThousandMessagesIsWithinStatisticalBounds()
    {
        const int n = 10_000;
        var sim = EchoService.Cluster(3, 2, new SimulationOptions { Network = new() { Reliable = false, DropRate = 0.1 } });
        sim.Node(A).Post(() => { for (var i = 0; i < n; i++) sim.Node(A).Context.Transport.Send(B, "echo/msg", new byte[] { 1 }); });
        sim.RunFor(TimeSpan.FromSeconds(5));
        var delivered = Echo(sim, B).Messages.Count;
        // Binomial(10000, 0.9): sd = 30; allow 5 sd.
        Assert.InRange(n - delivered, 1000 - 150, 1000 + 150);
        Assert.Equal(n, sim.Network.Stats.ForMethod("echo/msg").Messages);

        // A call needs both its request and its reply: success rate 0.9 * 0.9 = 0.81 (sd ~ 3.9 per 1000 of 10000 calls).
        var statuses = Calls(sim, A, B, n);
        var ok = statuses.Count(s => s == RpcStatus.Ok);
        Assert.InRange(ok, 8100 - 200, 8100 + 200);
        Assert.All(statuses.Where(s => s != RpcStatus.Ok), s => Assert.Equal(RpcStatus.Timeout, s));
    }

    [Fact]
    public void PartitionCutsExactlyTheLinksBetweenGroupsInBothDirections()
    {
        var sim = EchoService.Cluster(5, 3);
        sim.Network.Partition([A], [B, C]);
        Assert.All(Calls(sim, A, B, 5), s => Assert.NotEqual(RpcStatus.Ok, s));
        Assert.All(Calls(sim, B, A, 5), s => Assert.NotEqual(RpcStatus.Ok, s));
        Assert.All(Calls(sim, C, A, 5), s => Assert.NotEqual(RpcStatus.Ok, s));
        Assert.All(Calls(sim, B, C, 5), s => Assert.Equal(RpcStatus.Ok, s));
        Assert.All(Calls(sim, C, B, 5), s => Assert.Equal(RpcStatus.Ok, s));
        sim.Network.Heal();
        Assert.All(Calls(sim, A, B, 5), s => Assert.Equal(RpcStatus.Ok, s));
    }

    [Fact]
    public void OneWayPartitionBlocksOnlyOneDirection()
    {
        var sim = EchoService.Cluster(6, 2);
        sim.Network.BlockOneWay(A, B);
        sim.Node(A).Post(() => sim.Node(A).Context.Transport.Send(B, "echo/msg", new byte[] { 1 }));
        sim.Node(B).Post(() => sim.Node(B).Context.Transport.Send(A, "echo/msg", new byte[] { 2 }));
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Empty(Echo(sim, B).Messages);
        Assert.Single(Echo(sim, A).Messages);
        // A call needs both directions: A->B's request is cut; B->A's reply is cut, though A did receive the request.
        Assert.All(Calls(sim, A, B, 3), s => Assert.NotEqual(RpcStatus.Ok, s));
        var servedBefore = Echo(sim, A).Calls;
        Assert.All(Calls(sim, B, A, 3), s => Assert.NotEqual(RpcStatus.Ok, s));
        Assert.Equal(servedBefore + 3, Echo(sim, A).Calls);
    }

    [Fact]
    public void DisconnectedNodeNeitherSendsNorReceives()
    {
        var sim = EchoService.Cluster(8, 3);
        sim.Network.Disconnect(B);
        sim.Node(B).Post(() => { sim.Node(B).Context.Transport.Send(A, "echo/msg", new byte[] { 1 }); sim.Node(B).Context.Transport.Send(C, "echo/msg", new byte[] { 1 }); });
        sim.Node(A).Post(() => sim.Node(A).Context.Transport.Send(B, "echo/msg", new byte[] { 1 }));
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Empty(Echo(sim, A).Messages);
        Assert.Empty(Echo(sim, B).Messages);
        Assert.Empty(Echo(sim, C).Messages);
        Assert.All(Calls(sim, A, B, 3), s => Assert.Equal(RpcStatus.Unavailable, s));
        Assert.All(Calls(sim, B, C, 3), s => Assert.Equal(RpcStatus.Unavailable, s));
        Assert.Equal(0, Echo(sim, C).Calls);
        sim.Network.Connect(B);
        Assert.All(Calls(sim, B, C, 3), s => Assert.Equal(RpcStatus.Ok, s));
    }

    [Fact]
    public void ReplyToARequestSentBeforeAPartitionIsLost()
    {
        var sim = EchoService.Cluster(9, 2, new SimulationOptions { Network = new() { ReliableDelayMax = TimeSpan.FromMilliseconds(10) } });
        var node = sim.Node(A);
        RpcReply? reply = null;
        node.Post(async () => reply = await node.Context.Transport.CallAsync(B, "echo/call", new byte[] { 1 }, TimeSpan.FromSeconds(2), node.Context.Time));
        // Let the request reach B, then cut the link before the reply can travel back.
        sim.RunUntil(() => Echo(sim, B).Calls == 1, TimeSpan.FromSeconds(1));
        sim.Network.Disconnect(A);
        sim.RunFor(TimeSpan.FromSeconds(3));
        Assert.NotNull(reply);
        Assert.NotEqual(RpcStatus.Ok, reply!.Value.Status);
    }

    [Fact]
    public void LongReorderingDeliversSomeMessagesFarOutOfOrder()
    {
        var sim = EchoService.Cluster(10, 2, new SimulationOptions { Network = new() { LongReordering = true } });
        sim.Node(A).Post(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                sim.Node(A).Context.Transport.Send(B, "echo/msg", BitConverter.GetBytes(i));
                await Task.Delay(TimeSpan.FromMilliseconds(1), sim.Node(A).Context.Time);
            }
        });
        sim.RunFor(TimeSpan.FromSeconds(10));
        var order = Echo(sim, B).Messages.Select(m => BitConverter.ToInt32(m.Payload)).ToList();
        Assert.Equal(1000, order.Count);
        var inversions = order.Zip(order.Skip(1)).Count(p => p.First > p.Second);
        Assert.True(inversions > 10, $"expected reordering, saw {inversions} inversions");
        // Some message overtaken by at least 200 later ones: a long delay, not jitter.
        Assert.Contains(order.Select((value, position) => position - value), d => d >= 150);
    }

    [Fact]
    public void LongDelaysMakeFailuresSlowToReport()
    {
        var sim = EchoService.Cluster(11, 2, new SimulationOptions { Network = new() { LongDelays = true } });
        sim.Network.Disconnect(B);
        var node = sim.Node(A);
        var durations = sim.RunTest(() => node.InvokeAsync(async () =>
        {
            var list = new List<TimeSpan>();
            for (var i = 0; i < 50; i++)
            {
                var start = node.Context.Time.GetTimestamp();
                await node.Context.Transport.CallAsync(B, "echo/call", new byte[] { 1 }, CancellationToken.None);
                list.Add(node.Context.Time.GetElapsedTime(start));
            }
            return list;
        }), TimeSpan.FromHours(1));
        Assert.Contains(durations, d => d > TimeSpan.FromSeconds(2));
        Assert.All(durations, d => Assert.True(d <= TimeSpan.FromSeconds(7)));
    }

    [Fact]
    public void CountersRecordCallsMessagesAndBytesPerNodeAndMethod()
    {
        var sim = EchoService.Cluster(12, 3);
        Calls(sim, A, B, 4);
        sim.Node(C).Post(() => sim.Node(C).Context.Transport.Send(A, "echo/msg", new byte[10]));
        sim.RunFor(TimeSpan.FromSeconds(1));
        var stats = sim.Network.Stats;
        Assert.Equal(4, stats.ForMethod("echo/call").Calls);
        Assert.Equal(1, stats.ForMethod("echo/msg").Messages);
        Assert.Equal(4, stats.SentBy(A).Calls);
        Assert.Equal(4 * 3, stats.SentBy(A).Bytes);
        Assert.Equal(4 * 3, stats.SentBy(B).Bytes); // the echoed replies
        Assert.Equal(10, stats.SentBy(C).Bytes);
        Assert.Equal(5, stats.Total.Rpcs);
        Assert.Equal(5, stats.ForService("echo").Rpcs);
    }

    [Fact]
    public void CallToCrashedServerFailsInsteadOfHanging()
    {
        var sim = EchoService.Cluster(13, 2);
        sim.Node(B).Crash();
        Assert.All(Calls(sim, A, B, 3), s => Assert.Equal(RpcStatus.Unavailable, s));
        sim.Node(B).Start();
        sim.RunFor(TimeSpan.FromMilliseconds(1));
        Assert.All(Calls(sim, A, B, 3), s => Assert.Equal(RpcStatus.Ok, s));
    }
}
