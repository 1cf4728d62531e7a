using System.Text.Json;
using Flotilla.Cli.Commands;
using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>The sharded store's processes and the <c>flotilla shard</c> commands against them (real processes).</summary>
public class ShardCommandTests
{
    private static async Task<(int Code, string Out)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(args, output, output);
        return (code, output.ToString());
    }

    private static async Task<JsonElement> StatusAsync(string clusterFile)
    {
        var (code, output) = await RunAsync("shard", "status", "--cluster", clusterFile, "--json");
        Assert.True(code == 0, output);
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public async Task ControllerSpreadsShardsOverJoinedGroupsAndMoveAndLeaveReassignThem()
    {
        var (cluster, directory) = await ShardedClusterFixture.StartAsync(groups: 2);
        try
        {
            var saved = ShardedClusterFile.Load(cluster.ClusterFilePath);
            Assert.Equal("sharded-kv", saved.Kind);
            Assert.Equal([1, 2], saved.Groups.Keys);
            Assert.Equal(3, saved.Endpoints.Count);

            // The launcher joined both groups at once: configuration 1, eight shards each.
            var status = await StatusAsync(cluster.ClusterFilePath);
            Assert.Equal(1, status.GetProperty("num").GetInt32());
            var gids = status.GetProperty("shards").EnumerateArray().Select(s => s.GetProperty("gid").GetInt32()).ToList();
            Assert.Equal(16, gids.Count);
            Assert.Equal(8, gids.Count(g => g == 1));
            Assert.Equal(8, gids.Count(g => g == 2));

            var shard = gids.IndexOf(1);
            var (moved, moveOutput) = await RunAsync("shard", "move", shard.ToString(), "2", "--cluster", cluster.ClusterFilePath);
            Assert.True(moved == 0, moveOutput);
            status = await StatusAsync(cluster.ClusterFilePath);
            Assert.Equal(2, status.GetProperty("num").GetInt32());
            Assert.Equal(2, status.GetProperty("shards")[shard].GetProperty("gid").GetInt32());

            // The web console shows the same shard map: the controller's latest configuration, shard -> group.
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            {
                var state = default(JsonElement);
                Assert.True(await ClusterFixture.EventuallyAsync(async () =>
                {
                    state = JsonDocument.Parse(await http.GetStringAsync(cluster.Processes.ConsoleAddresses[1] + "/console/state.json")).RootElement;
                    return state.GetProperty("shards").GetProperty("configNum").GetInt32() == 2;
                }, TimeSpan.FromSeconds(20)), "the console never showed configuration 2");
                Assert.Equal(2, state.GetProperty("shards").GetProperty("shards")[shard].GetProperty("gid").GetInt32());
                Assert.Equal(16, state.GetProperty("shards").GetProperty("shards").GetArrayLength());
                Assert.Contains("<caption>Shard map", state.GetProperty("html").GetProperty("shards").GetString());
                Assert.Contains("<caption>Moves in progress</caption>", state.GetProperty("html").GetProperty("shards").GetString());
            }

            var (left, leaveOutput) = await RunAsync("shard", "leave", "1", "--cluster", cluster.ClusterFilePath);
            Assert.True(left == 0, leaveOutput);
            status = await StatusAsync(cluster.ClusterFilePath);
            Assert.All(status.GetProperty("shards").EnumerateArray(), s => Assert.Equal(2, s.GetProperty("gid").GetInt32()));
            Assert.False(status.GetProperty("groups").TryGetProperty("1", out _));

            // A group that left can come back (its replicas still run): the controller gives it half the shards again.
            var (joined, joinOutput) = await RunAsync("shard", "join", "1", "--cluster", cluster.ClusterFilePath);
            Assert.True(joined == 0, joinOutput);
            status = await StatusAsync(cluster.ClusterFilePath);
            Assert.Equal(8, status.GetProperty("shards").EnumerateArray().Count(s => s.GetProperty("gid").GetInt32() == 1));
        }
        finally
        {
            await ShardedClusterFixture.StopAsync(cluster, directory);
        }
    }

    [Fact]
    public async Task BadReconfigurationsAreOneLineErrorsWithExitCodesAndChangeNothing()
    {
        var (cluster, directory) = await ShardedClusterFixture.StartAsync(groups: 2);
        try
        {
            var file = cluster.ClusterFilePath;
            async Task Refused(int expected, string mentions, params string[] args)
            {
                var (code, output) = await RunAsync([.. args, "--cluster", file]);
                Assert.True(code == expected, $"{string.Join(" ", args)}: exit {code}: {output}");
                Assert.StartsWith("flotilla: error: ", output);
                Assert.Contains(mentions, output);
                Assert.Single(output.Trim().Split('\n'));
            }
            await Refused(4, "out of range", "shard", "move", "16", "1");
            await Refused(4, "out of range", "shard", "move", "-1", "1");
            await Refused(4, "unknown group 9", "shard", "move", "0", "9");
            await Refused(4, "unknown group 9", "shard", "leave", "9");
            await Refused(4, "group 7 has no replicas", "shard", "join", "7");
            await Refused(4, "already joined", "shard", "join", "2");
            await Refused(4, "at least one group", "shard", "leave", "1", "2");
            // Nothing above created a configuration.
            Assert.Equal(1, (await StatusAsync(file)).GetProperty("num").GetInt32());

            // A replicated cluster's file (no kind, or kind "replicated-kv") is not a sharded store.
            var replicated = Path.Combine(directory, "replicated.json");
            File.WriteAllText(replicated, JsonSerializer.Serialize(new { endpoints = cluster.File.Endpoints }));
            var (code, output) = await RunAsync("shard", "status", "--cluster", replicated);
            Assert.Equal(4, code);
            Assert.Contains("describes a replicated-kv cluster, not a sharded one", output);
            var (missing, missingOutput) = await RunAsync("shard", "status", "--cluster", Path.Combine(directory, "nope.json"));
            Assert.Equal(4, missing);
            Assert.Contains("not found", missingOutput);
        }
        finally
        {
            await ShardedClusterFixture.StopAsync(cluster, directory);
        }
    }
}
