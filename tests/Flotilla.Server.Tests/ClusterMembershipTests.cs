using System.Text.Json;
using Flotilla.Cli.Commands;
using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>
/// <c>flotilla cluster add|remove</c> against real member processes, under client load: the cluster grows 3 → 5 and
/// shrinks back to 3 through Raft (learner, caught up, promoted; removed and stopped), cluster.json and the
/// supervisor follow, the recorded history is linearizable and no acknowledged write is lost.
/// </summary>
public class ClusterMembershipTests
{
    [Fact]
    public async Task GrowsToFiveAndShrinksToThreeUnderLoadWithoutLosingAWrite()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            await using var load = new KvLoad(cluster.File.Endpoints);
            await load.ProgressAsync(20, "before the changes");

            var (code, text) = await RunAsync("cluster", "add", "--cluster", cluster.ClusterFilePath, "--json");
            Assert.True(code == 0, text);
            var added = JsonDocument.Parse(text).RootElement;
            Assert.Equal(4, added.GetProperty("added").GetInt32());
            Assert.Equal("voters=(1 2 3 4)", added.GetProperty("membership").GetString());
            await load.ProgressAsync(10, "after adding n4");

            (code, text) = await RunAsync("cluster", "add", "--cluster", cluster.ClusterFilePath);
            Assert.True(code == 0, text);
            Assert.StartsWith("added n5 ", text);
            Assert.Contains("voters=(1 2 3 4 5)", text);
            await load.ProgressAsync(10, "after adding n5");

            // cluster.json and 'cluster status' see all five; every member applied the same membership.
            Assert.Equal([1, 2, 3, 4, 5], ClusterFile.Load(cluster.ClusterFilePath).Members.Select(m => m.Id));
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                var all = await cluster.StatusAsync(TimeSpan.FromSeconds(2));
                return all.Count == 5 && all.Values.All(s => s is { MemberRole: "voter", Membership: "voters=(1 2 3 4 5)" });
            }, TimeSpan.FromSeconds(20)), "not every member shows voters=(1 2 3 4 5)");

            // Shrink: an original member (the leader, to make it step down) and one of the new ones.
            var leader = (await ClusterFixture.LeaderAsync(cluster))!.Value;
            var leaderPid = cluster.ProcessId(leader)!.Value;
            (code, text) = await RunAsync("cluster", "remove", leader.ToString(), "--cluster", cluster.ClusterFilePath);
            Assert.True(code == 0, text);
            Assert.StartsWith($"removed n{leader} and stopped it", text);
            Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(!ProcessLiveness.IsAlive(leaderPid)), TimeSpan.FromSeconds(10)));
            await load.ProgressAsync(10, $"after removing the leader n{leader}");
            // The removed leader applied its own removal, stepped down, and said so in its log.
            Assert.Contains(File.ReadLines(cluster.LogFile(leader)), l => l.Contains($"n{leader} was removed from the group", StringComparison.Ordinal));
            (code, text) = await RunAsync("cluster", "remove", "5", "--cluster", cluster.ClusterFilePath);
            Assert.True(code == 0, text);
            await load.ProgressAsync(10, "after removing n5");

            var left = ClusterFile.Load(cluster.ClusterFilePath);
            var expected = new[] { 1, 2, 3, 4 }.Where(id => id != leader).ToList();
            Assert.Equal(expected, left.Members.Select(m => m.Id));
            Assert.Equal(6, left.NextMemberId); // ids are never reused
            Assert.Equal(expected, cluster.MemberIds);
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
                (await cluster.StatusAsync(TimeSpan.FromSeconds(2))).Values.All(s => s?.Membership == $"voters=({string.Join(' ', expected)})"),
                TimeSpan.FromSeconds(20)), "the survivors do not agree on the membership");

            await load.StopAndCheckAsync(left.Endpoints, directory);
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    internal static async Task<(int Code, string Text)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(args, output, output);
        return (code, output.ToString());
    }
}
