using Flotilla.Raft.Testing;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary>
/// Leadership transfers through the driver (<see cref="RaftNode.TransferLeadershipAsync(NodeId, CancellationToken)"/>)
/// over an unreliable network (10% of messages lost, delays reordered): a transfer may fail, but only with a reason,
/// never with two leaders in one term (election safety, sampled over the whole run, not just at the end), and the
/// cluster keeps agreeing afterwards.
/// </summary>
public class LeadershipTransferSimTests
{
    [Fact]
    public void TransfersUnderMessageLossKeepOneLeaderPerTerm() => SeedRunner.ForSeeds(8, sim => sim.RunTest(async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("start", n, true);
        var leaderOfTerm = new Dictionary<ulong, int>();
        string? violation = null;
        var watching = true;
        async Task WatchAsync()
        {
            while (watching)
            {
                foreach (var i in c.All)
                {
                    if (c.NodeOf(i) is not { IsLeader: true } node) continue;
                    if (leaderOfTerm.TryGetValue(node.Term, out var other) && other != i) violation ??= $"term {node.Term} had leaders {other} and {i}";
                    leaderOfTerm[node.Term] = i;
                }
                await c.SleepMs(2);
            }
        }
        var watcher = WatchAsync();
        c.Reliable = false;
        var moved = 0;
        var failures = new List<string>();
        for (var round = 0; round < 6; round++)
        {
            var leader = await c.CheckOneLeaderAsync();
            var target = (leader + sim.Random.Next(n - 1)) % n + 1;
            var result = await sim.Node(leader).InvokeAsync(() => c.NodeOf(leader)!.TransferLeadershipAsync(new NodeId(target), CancellationToken.None));
            if (result.Ok)
            {
                moved++;
                Assert.False(result.AlreadyLeader);
            }
            else
            {
                Assert.DoesNotContain('\n', result.Message);
                failures.Add(result.Message);
            }
            await c.StartAsync(leader, $"after {round}");
        }
        c.Reliable = true;
        await c.OneAsync("end", n, true);
        watching = false;
        await watcher;
        Assert.True(violation is null, violation);
        Assert.True(moved >= 3, $"only {moved} of 6 transfers completed under 10% loss: {string.Join("; ", failures)}");
    }, TimeSpan.FromMinutes(2)));

    [Fact]
    public void DriverAnswersRefusalsAtOnceAndReportsAnAlreadyLeadingTarget() => SeedRunner.ForSeeds(2, sim => sim.RunTest(async () =>
    {
        var c = new RaftCluster(sim, 3);
        var leader = await c.CheckOneLeaderAsync();
        var follower = c.All.First(i => i != leader);
        var third = c.All.First(i => i != leader && i != follower);
        var node = c.NodeOf(leader)!;
        var unknown = await sim.Node(leader).InvokeAsync(() => node.TransferLeadershipAsync(new NodeId(9), CancellationToken.None));
        Assert.Equal((false, "n9 is not a member of the group"), (unknown.Ok, unknown.Message));
        var self = await sim.Node(leader).InvokeAsync(() => node.TransferLeadershipAsync(new NodeId(leader), CancellationToken.None));
        Assert.True(self is { Ok: true, AlreadyLeader: true }, self.Message);
        var fromFollower = await sim.Node(follower).InvokeAsync(() => c.NodeOf(follower)!.TransferLeadershipAsync(new NodeId(third), CancellationToken.None));
        Assert.False(fromFollower.Ok);
        Assert.Contains("is not the leader", fromFollower.Message);
        var moved = await sim.Node(leader).InvokeAsync(() => node.TransferLeadershipAsync(new NodeId(follower), CancellationToken.None));
        Assert.True(moved.Ok, moved.Message);
        Assert.True(c.NodeOf(follower)!.IsLeader);
    }, TimeSpan.FromMinutes(1)));
}
