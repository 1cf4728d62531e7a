using System.Text.Json;
using Flotilla.Cli.Commands;
using Flotilla.ShardKv;

namespace Flotilla.Server.Tests;

/// <summary>Data through a sharded store of real processes: the CLI's kv commands route by shard, and a shard moved
/// with <c>flotilla shard move</c> arrives at its new group with every key and version.</summary>
public class ShardedKvTests
{
    private static async Task<(int Code, string Out)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(args, output, output);
        return (code, output.ToString());
    }

    [Fact]
    public async Task KeysWrittenWithKvPutAreReadBackWithTheirVersionsAfterTheirShardMoves()
    {
        var (cluster, directory) = await ShardedClusterFixture.StartAsync(groups: 2);
        try
        {
            var file = cluster.ClusterFilePath;
            var keys = Enumerable.Range(0, 24).Select(i => $"user-{i}").ToList();
            foreach (var key in keys)
            {
                var (put, output) = await RunAsync("kv", "put", key, $"v1-{key}", "--version", "0", "--cluster", file, "--timeout", "20s");
                Assert.True(put == 0, $"put {key}: {output}");
            }
            // A second version of a few keys, so versions (not only values) must survive the move.
            foreach (var key in keys.Take(6))
            {
                var (put, output) = await RunAsync("kv", "put", key, $"v2-{key}", "--version", "1", "--cluster", file, "--timeout", "20s");
                Assert.True(put == 0, $"put {key} again: {output}");
            }

            // Move the shard of the first key to the other group and wait until it serves there.
            var status = await StatusAsync(file);
            var shard = ShardMap.ShardOf(keys[0], 16);
            var from = status.GetProperty("shards")[shard].GetProperty("gid").GetInt32();
            var to = from == 1 ? 2 : 1;
            var (moved, moveOutput) = await RunAsync("shard", "move", shard.ToString(), to.ToString(), "--cluster", file, "--wait", "--timeout", "30s");
            Assert.True(moved == 0, moveOutput);

            status = await StatusAsync(file);
            var row = status.GetProperty("shards")[shard];
            Assert.Equal(to, row.GetProperty("gid").GetInt32());
            Assert.Equal(2, status.GetProperty("num").GetInt32());

            foreach (var (key, i) in keys.Select((k, i) => (k, i)))
            {
                var (get, output) = await RunAsync("kv", "get", key, "--cluster", file, "--json", "--timeout", "20s");
                Assert.True(get == 0, $"get {key}: {output}");
                var reply = JsonDocument.Parse(output).RootElement;
                Assert.Equal(i < 6 ? $"v2-{key}" : $"v1-{key}", reply.GetProperty("value").GetString());
                Assert.Equal(i < 6 ? 2UL : 1UL, reply.GetProperty("version").GetUInt64());
            }
            // The moved key's version moved with it: a put at the old version is refused, at the current one accepted.
            var (stale, staleOutput) = await RunAsync("kv", "put", keys[0], "late", "--version", "1", "--cluster", file, "--timeout", "20s");
            Assert.True(stale == 11, staleOutput);
            var (fresh, freshOutput) = await RunAsync("kv", "put", keys[0], "v3", "--version", "2", "--cluster", file, "--timeout", "20s");
            Assert.True(fresh == 0, freshOutput);

            // Eventually the old owner deleted its copy and both groups settled: every shard Serving at configuration 2.
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                var s = await StatusAsync(file);
                return s.GetProperty("shards").EnumerateArray().All(r => r.GetProperty("state").GetString() == "Serving" && r.GetProperty("group_config").GetInt32() == 2);
            }, TimeSpan.FromSeconds(30)), "the groups did not settle after the move");

            // The load tool works through the same --cluster FILE, and its recorded history passes 'flotilla check'.
            var history = Path.Combine(directory, "bench-history.json");
            var (bench, benchOutput) = await RunAsync("bench", "kv", "--cluster", file, "--clients", "4", "--duration", "1s", "--warmup", "0s",
                "--keys", "40", "--history", history, "--json");
            Assert.True(bench == 0, benchOutput);
            Assert.True(JsonDocument.Parse(benchOutput).RootElement.GetProperty("writes").GetProperty("ok").GetInt64() > 0, benchOutput);
            var (check, checkOutput) = await RunAsync("check", history, "--timeout", "60s");
            Assert.True(check == 0, checkOutput);
            Assert.Contains("linearizable", checkOutput);
        }
        finally
        {
            await ShardedClusterFixture.StopAsync(cluster, directory);
        }
    }

    private static async Task<JsonElement> StatusAsync(string clusterFile)
    {
        var (code, output) = await RunAsync("shard", "status", "--cluster", clusterFile, "--json");
        Assert.True(code == 0, output);
        return JsonDocument.Parse(output).RootElement;
    }
}
