using Flotilla.Kv.Client;

namespace Flotilla.Server.Tests;

/// <summary>Over real gRPC: a follower's ERR_WRONG_SERVER names the leader's client address, and the client dials it
/// next instead of trying every member in turn.</summary>
public class LeaderHintProcessTests
{
    [Fact]
    public async Task ClientListingTheLeaderLastReachesItOnItsSecondAttempt()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            int? leader = null;
            // Wait until every member agrees on the leader, so each follower's answer can name it.
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                var statuses = await cluster.StatusAsync(TimeSpan.FromSeconds(1));
                leader = statuses.Values.FirstOrDefault(s => s?.Role == "Leader")?.Id;
                return leader is not null && statuses.Values.All(s => s?.Leader == leader);
            }, TimeSpan.FromSeconds(20)), "no leader every member knows");
            var followersFirst = cluster.File.Members.OrderBy(m => m.Id == leader ? 1 : 0).ThenBy(m => m.Id)
                .Select(m => GrpcKvChannel.ParseEndpoint(m.Address)).ToList();
            using var channel = new GrpcKvChannel(followersFirst);
            var client = new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(30) });

            var put = await client.PutAsync("hinted", "v", 0);
            Assert.True(put.IsOk, put.ToString());
            // First try at a follower, second at the leader it named (round robin would have needed three). A leader
            // change in between would add attempts; this cluster is idle and healthy, so none is expected.
            Assert.Equal((2L, 1L), (client.Attempts, client.HintsFollowed));
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }
}
