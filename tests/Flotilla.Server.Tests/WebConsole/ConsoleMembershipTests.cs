using System.Text.Json;
using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests.WebConsole;

/// <summary>The console's member table follows membership changes on a live cluster: a member added with
/// <c>cluster add</c> appears (reachable, on the old members' consoles and on its own), a removed one goes.</summary>
public class ConsoleMembershipTests
{
    [Fact]
    public async Task TheMemberTableShowsAddedMembersAndDropsRemovedOnes()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) is not null, TimeSpan.FromSeconds(30)));
            Assert.True(await ShowsAsync(http, cluster.ConsoleAddresses[1], [1, 2, 3]), "n1's console never showed n1..n3");

            var (code, text) = await ClusterMembershipTests.RunAsync("cluster", "add", "--cluster", cluster.ClusterFilePath);
            Assert.True(code == 0, text);
            var added = ClusterFile.Load(cluster.ClusterFilePath).Members.Single(m => m.Id == 4);
            // n1 was started with --members n1..n3 only; the new member's own console knows the rest from the log.
            foreach (var console in new[] { cluster.ConsoleAddresses[1], cluster.ConsoleAddresses[3], added.ConsoleAddress! })
                Assert.True(await ShowsAsync(http, console, [1, 2, 3, 4]), $"{console} never showed n4 (reachable) beside n1..n3");

            (code, text) = await ClusterMembershipTests.RunAsync("cluster", "remove", "2", "--cluster", cluster.ClusterFilePath);
            Assert.True(code == 0, text);
            foreach (var console in new[] { cluster.ConsoleAddresses[1], added.ConsoleAddress! })
                Assert.True(await ShowsAsync(http, console, [1, 3, 4]), $"{console} still showed the removed n2");
            var page = await http.GetStringAsync(added.ConsoleAddress + "/");
            Assert.Contains("<th scope=\"row\">n4 (this one)</th>", page);
            Assert.Contains("<th scope=\"row\">n1</th>", page);
            Assert.DoesNotContain("<th scope=\"row\">n2", page);
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    /// <summary>Polls the console's state until its member table lists exactly <paramref name="ids"/>, each answering.</summary>
    private static Task<bool> ShowsAsync(HttpClient http, string console, int[] ids) => ClusterFixture.EventuallyAsync(async () =>
    {
        var members = JsonDocument.Parse(await http.GetStringAsync(console + "/console/state.json")).RootElement.GetProperty("members");
        return members.EnumerateArray().Select(m => m.GetProperty("id").GetInt32()).SequenceEqual(ids)
               && members.EnumerateArray().All(m => m.GetProperty("reachable").GetBoolean());
    }, TimeSpan.FromSeconds(30));
}
