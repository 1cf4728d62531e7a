using Flotilla.Kv.Client;
using Flotilla.Kv.Replicated.Testing;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Tests.Replicated;

/// <summary>
/// A follower's wrong-server answer names the leader, and the client goes there next instead of trying every member in
/// turn: with the leader listed last of five, an operation costs two attempts, not five.
/// </summary>
public class LeaderHintTests
{
    [Fact]
    public void ClientGoesFromTheFollowerStraightToTheLeaderItNames() => SeedRunner.ForSeeds(5, sim => sim.RunTest(async () =>
    {
        var c = new ReplicatedKvCluster(sim, 5);
        var (writerNode, writer) = c.AddClient();
        Assert.Equal(KvStatus.Ok, (await writerNode.InvokeAsync(() => writer.PutAsync("k", "a", 0))).Status);
        var leader = await c.WaitLeaderAsync();
        // Every follower has heard from the leader by now (the put committed on a majority; heartbeats reach the rest).
        await c.SleepMs(500);
        var followersFirst = c.ServerIds.Where(id => id.Value != leader).Append(new NodeId(leader)).ToList();
        var node = sim.AddClient(new NodeId(900));
        var client = KvClient.Over(node.Context, followersFirst);

        Assert.Equal(KvStatus.Ok, (await node.InvokeAsync(() => client.PutAsync("k", "b", 1))).Status);
        Assert.Equal((2L, 1L, 1L), (client.Attempts, client.HintsReceived, client.HintsFollowed));
        // The client now sticks to the leader: the next operation is one attempt.
        var read = await node.InvokeAsync(() => client.GetAsync("k"));
        Assert.Equal(("b", 2UL), (read.Value, read.Version));
        Assert.Equal(3L, client.Attempts);
    }, TimeSpan.FromMinutes(2)));

    [Fact]
    public void HintAtAMemberTheClientDoesNotKnowFallsBackToRoundRobin() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new ReplicatedKvCluster(sim, 3);
        var (writerNode, writer) = c.AddClient();
        Assert.Equal(KvStatus.Ok, (await writerNode.InvokeAsync(() => writer.PutAsync("k", "a", 0))).Status);
        var leader = await c.WaitLeaderAsync();
        await c.SleepMs(500);
        // The client lists only the followers: the hint names a member it cannot dial, so it tries both followers, backs
        // off, and keeps doing so until its deadline (no answer), never dialling the unlisted leader.
        var followers = c.ServerIds.Where(id => id.Value != leader).ToList();
        var node = sim.AddClient(new NodeId(900));
        var client = KvClient.Over(node.Context, followers, new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(1) });

        var put = await node.InvokeAsync(() => client.PutAsync("k", "b", 1));
        Assert.Equal(KvStatus.Unavailable, put.Status);
        Assert.Equal(0L, client.HintsFollowed);
        Assert.True(client.HintsReceived >= 2, $"{client.HintsReceived} wrong-server answers");
    }, TimeSpan.FromMinutes(2)));

    [Fact]
    public void GrpcChannelMapsAHintToItsEndpointOrAddsTheLeader()
    {
        using var channel = new GrpcKvChannel([new Uri("http://127.0.0.1:7001"), new Uri("http://127.0.0.1:7002")]);
        Assert.Equal(1, channel.EndpointOf(new Protos.LeaderHint { Id = 2, Address = "127.0.0.1:7002" }));
        Assert.Null(channel.EndpointOf(new Protos.LeaderHint { Id = 2 }));
        Assert.Equal(2, channel.EndpointOf(new Protos.LeaderHint { Id = 3, Address = "127.0.0.1:7003" }));
        Assert.Equal((3, "127.0.0.1:7003"), (channel.EndpointCount, channel.DescribeEndpoint(2)));
        Assert.Equal(2, channel.EndpointOf(new Protos.LeaderHint { Id = 3, Address = "127.0.0.1:7003" }));
    }
}
