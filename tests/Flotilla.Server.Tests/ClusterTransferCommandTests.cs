using System.Text.Json;
using Flotilla.Cli.Commands;

namespace Flotilla.Server.Tests;

/// <summary><c>flotilla cluster transfer ID</c> against real member processes: leadership moves to the named follower
/// (and <c>cluster status</c> shows it), an already-leading target is a success, an unknown id is a usage error.</summary>
public class ClusterTransferCommandTests
{
    [Fact]
    public async Task TransferMovesLeadershipToTheNamedFollowerAndStatusShowsIt()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) is not null, TimeSpan.FromSeconds(20)));
            var leader = (await ClusterFixture.LeaderAsync(cluster))!.Value;
            var target = cluster.MemberIds.First(id => id != leader);

            var (code, text) = await RunAsync("cluster", "transfer", target.ToString(), "--cluster", cluster.ClusterFilePath);
            Assert.True(code == 0, text);
            Assert.Contains($"leadership moved from n{leader} to n{target}", text);

            var (statusCode, json) = await RunAsync("cluster", "status", "--cluster", cluster.ClusterFilePath, "--json");
            Assert.True(statusCode == 0, json);
            var members = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
            var leaders = members.Where(m => m.GetProperty("role").GetString() == "Leader").Select(m => m.GetProperty("id").GetInt32()).ToList();
            Assert.Equal([target], leaders);
            // Each member's place in the membership, and no change in progress.
            Assert.All(members, m => Assert.Equal("voter", m.GetProperty("member_role").GetString()));
            Assert.All(members, m => Assert.False(m.GetProperty("joint").GetBoolean()));
            Assert.All(members, m => Assert.Equal("voters=(1 2 3)", m.GetProperty("membership").GetString()));

            var (again, againText) = await RunAsync("cluster", "transfer", target.ToString(), "--cluster", cluster.ClusterFilePath);
            Assert.True(again == 0, againText);
            Assert.Contains($"n{target} already leads", againText);

            // The RPC itself is behind the admin token like every Admin call.
            using (var intruder = new Flotilla.Server.Cluster.AdminClient(new Uri(cluster.AdminAddresses[target]), "wrong-token"))
            {
                Assert.Null(await intruder.TryTransferLeadershipAsync(leader, TimeSpan.FromSeconds(5)));
                Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, intruder.LastError);
            }
            Assert.True((await ClusterFixture.LeaderAsync(cluster)) == target, "a refused call moved leadership");

            var (unknown, unknownText) = await RunAsync("cluster", "transfer", "9", "--cluster", cluster.ClusterFilePath);
            Assert.Equal(2, unknown);
            Assert.Equal("flotilla: error: n9 is not a member of the cluster (members: n1, n2, n3)", unknownText.Trim());
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
        var (unreachable, unreachableText) = await RunAsync("cluster", "transfer", "1", "--cluster", "127.0.0.1:1");
        Assert.Equal(3, unreachable);
        Assert.Single(unreachableText.Trim().Split('\n'));
    }

    private static async Task<(int Code, string Text)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(args, output, output);
        return (code, output.ToString());
    }
}
