using Flotilla.Kv.Client;
using Flotilla.Kv.Replicated.Testing;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Tests.Replicated;

/// <summary>
/// A follower answers ErrWrongServer, which the client must count as "not processed": otherwise a put that meets a
/// follower first would turn a clean ErrVersion (or OK) into a needless ErrMaybe.
/// </summary>
public class WrongServerAnswerTests
{
    [Fact]
    public void FollowerFirstThenLeaderReportsCleanErrVersionAndOk() => SeedRunner.ForSeeds(5, sim => sim.RunTest(async () =>
    {
        var c = new ReplicatedKvCluster(sim, 3);
        var (writerNode, writer) = c.AddClient();
        Assert.Equal(KvStatus.Ok, (await writerNode.InvokeAsync(() => writer.PutAsync("k", "a", 0))).Status);
        var leader = await c.WaitLeaderAsync();
        var followersFirst = c.ServerIds.Where(id => id.Value != leader).Append(new NodeId(leader)).ToList();
        var (node, client) = c.AddClient(endpoints: followersFirst);

        var stale = await node.InvokeAsync(() => client.PutAsync("k", "b", 0));
        Assert.Equal(KvStatus.ErrVersion, stale.Status);
        var fresh = await node.InvokeAsync(() => client.PutAsync("k", "b", 1));
        Assert.Equal(KvStatus.Ok, fresh.Status);
        var read = await node.InvokeAsync(() => client.GetAsync("k"));
        Assert.Equal(("b", 2UL), (read.Value, read.Version));
        c.CheckLinearizable();
    }, TimeSpan.FromMinutes(2)));

    [Fact]
    public void FollowersAnswerWrongServerDirectly() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new ReplicatedKvCluster(sim, 3);
        var (writerNode, writer) = c.AddClient();
        Assert.Equal(KvStatus.Ok, (await writerNode.InvokeAsync(() => writer.PutAsync("k", "a", 0))).Status);
        var leader = await c.WaitLeaderAsync();
        var follower = c.ServerIds.First(id => id.Value != leader);
        var channel = new TransportKvChannel(writerNode.Context, follower);
        var put = await writerNode.InvokeAsync(() => channel.PutAsync(0, new Protos.PutRequest { Key = "k", Value = "z", Version = 1 }, TimeSpan.FromSeconds(1), default));
        Assert.Equal(Protos.KvError.ErrWrongServer, put.Reply!.Error);
        var get = await writerNode.InvokeAsync(() => channel.GetAsync(0, new Protos.GetRequest { Key = "k" }, TimeSpan.FromSeconds(1), default));
        Assert.Equal(Protos.KvError.ErrWrongServer, get.Reply!.Error);
        // The refused put was not applied anywhere.
        var read = await writerNode.InvokeAsync(() => writer.GetAsync("k"));
        Assert.Equal(("a", 1UL), (read.Value, read.Version));
    }, TimeSpan.FromMinutes(2)));
}
