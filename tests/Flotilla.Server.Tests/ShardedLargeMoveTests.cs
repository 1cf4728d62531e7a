using System.Text.Json;
using Flotilla.Cli.Commands;
using Flotilla.ShardKv;

namespace Flotilla.Server.Tests;

/// <summary>A shard far larger than one group-to-group message (4 MiB) moves between groups of real processes: the new
/// owner pulls it in pages (docs/shardkv-design.md, "Chunked pulls"). Before chunking, such a shard never moved.</summary>
public class ShardedLargeMoveTests
{
    private const int Shards = 16, ValueBytes = 128 * 1024, Keys = 68; // 68 × 128 KiB = 8.5 MiB in one shard

    private static async Task<(int Code, string Out)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(args, output, output);
        return (code, output.ToString());
    }

    [Fact]
    public async Task AShardOfMoreThan8MiBMovesToAnotherGroupWithEveryKey()
    {
        var (cluster, directory) = await ShardedClusterFixture.StartAsync(groups: 2, shards: Shards);
        try
        {
            var file = cluster.ClusterFilePath;
            const int shard = 3;
            var keys = Enumerable.Range(0, 100_000).Select(i => $"big-{i}").Where(k => ShardMap.ShardOf(k, Shards) == shard).Take(Keys).ToList();
            string ValueOf(string key) => key + ":" + new string((char)('a' + key.Length % 26), ValueBytes - key.Length - 1);
            foreach (var key in keys)
            {
                var (put, output) = await RunAsync("kv", "put", key, ValueOf(key), "--version", "0", "--cluster", file, "--timeout", "30s");
                Assert.True(put == 0, $"put {key}: {output}");
            }

            var status = JsonDocument.Parse((await RunAsync("shard", "status", "--cluster", file, "--json")).Out).RootElement;
            var from = status.GetProperty("shards")[shard].GetProperty("gid").GetInt32();
            var to = from == 1 ? 2 : 1;
            var started = DateTime.UtcNow;
            var (moved, moveOutput) = await RunAsync("shard", "move", shard.ToString(), to.ToString(), "--cluster", file, "--wait", "--timeout", "90s");
            Assert.True(moved == 0, $"the move of {Keys * (ValueBytes >> 10) >> 10} MiB did not complete: {moveOutput}");
            var took = DateTime.UtcNow - started;

            foreach (var key in keys)
            {
                var (get, output) = await RunAsync("kv", "get", key, "--cluster", file, "--json", "--timeout", "30s");
                Assert.True(get == 0, $"get {key} after the move: {output[..Math.Min(200, output.Length)]}");
                var reply = JsonDocument.Parse(output).RootElement;
                Assert.True(reply.GetProperty("value").GetString() == ValueOf(key), $"{key} came back with another value");
                Assert.Equal(1UL, reply.GetProperty("version").GetUInt64());
            }
            // Writes go to the new owner now, and the old owner deletes its copy (every shard Serving again).
            var (again, againOutput) = await RunAsync("kv", "put", keys[0], "after-the-move", "--version", "1", "--cluster", file, "--timeout", "30s");
            Assert.True(again == 0, againOutput);
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                var s = JsonDocument.Parse((await RunAsync("shard", "status", "--cluster", file, "--json")).Out).RootElement;
                return s.GetProperty("shards").EnumerateArray().All(r => r.GetProperty("state").GetString() == "Serving");
            }, TimeSpan.FromSeconds(30)), "the groups did not settle after the move");
            System.Console.WriteLine($"moved {Keys} keys of {ValueBytes} B (one shard) in {took.TotalSeconds:0.0} s");
        }
        finally
        {
            await ShardedClusterFixture.StopAsync(cluster, directory);
        }
    }
}
