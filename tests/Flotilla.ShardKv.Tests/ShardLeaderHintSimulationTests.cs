using Flotilla.Kv.Client;
using Flotilla.ShardKv.Rpc;
using Flotilla.ShardKv.Testing;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Tests;

/// <summary>A data group's follower answers WrongServer naming its leader's endpoint (as configurations name it), and
/// the client goes there next.</summary>
public class ShardLeaderHintSimulationTests
{
    [Fact]
    public void AFollowersWrongServerAnswerNamesTheGroupLeader() => SeedRunner.ForSeeds(2, sim => sim.RunTest(async () =>
    {
        var c = new ShardKvCluster(sim, 1);
        await c.JoinAsync(1);
        var (node, client, _) = c.AddClient();
        Assert.Equal(KvStatus.Ok, (await node.InvokeAsync(() => client.PutAsync("k", "v", 0))).Status);
        await c.SleepMs(500);
        var replicas = c.ReplicasOf(1).ToList();
        var leader = replicas.Single(r => r.Rsm.IsLeader);
        var follower = replicas.First(r => !r.Rsm.IsLeader);
        var reply = await sim.Node(follower.Rsm.Id.Value).InvokeAsync(() => follower.GetAsync(new ShardKvRequest { Key = "k" }, CancellationToken.None));
        Assert.Equal(ShardStatus.WrongServer, reply.Status);
        Assert.Equal(TransportShardChannel.EndpointOf(leader.Rsm.Id), reply.Leader);
    }, TimeSpan.FromMinutes(2)));
}
