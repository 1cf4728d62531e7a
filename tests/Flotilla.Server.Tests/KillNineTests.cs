namespace Flotilla.Server.Tests;

/// <summary>
/// A real 3-process cluster on loopback under concurrent load while members are killed with SIGKILL and restarted:
/// no acknowledged write may be lost, and the whole recorded history must be linearizable per <c>flotilla check</c>.
/// </summary>
public class KillNineTests
{
    [Fact]
    public async Task NoAcknowledgedWriteIsLostAcrossKillNineOfLeaderAndFollower()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            await using var load = new KvLoad(cluster.File.Endpoints, clients: 6, keys: 8);
            await load.ProgressAsync(20, "before the crashes");

            // Kill the leader; the survivors elect another and keep accepting writes.
            var leader = (await ClusterFixture.LeaderAsync(cluster))!.Value;
            cluster.Kill(leader);
            await load.ProgressAsync(20, "after killing the leader");
            cluster.Launch(leader);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));

            // Kill a follower, then bring it back.
            var newLeader = (await ClusterFixture.LeaderAsync(cluster)) ?? leader;
            var follower = cluster.MemberIds.First(id => id != newLeader);
            cluster.Kill(follower);
            await load.ProgressAsync(20, "after killing a follower");
            cluster.Launch(follower);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));
            await load.ProgressAsync(20, "after the restarts");

            // Every acknowledged put is still there, and the history passes the same check a user would run.
            await load.StopAndCheckAsync(cluster.File.Endpoints, directory);
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }
}
