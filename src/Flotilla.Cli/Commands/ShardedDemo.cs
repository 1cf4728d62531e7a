using Flotilla.Cli.Bench;
using Flotilla.Cli.Infrastructure;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using Flotilla.Server.Cluster;
using Flotilla.ShardCtl.Protos;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla demo --sharded</c>: a sharded store of two groups on three processes; 16 clients write while
/// shards move back and forth between the groups, and the recorded history is checked for linearizability.</summary>
internal static class ShardedDemo
{
    private const int Shards = 16;

    public static async Task RunAsync(TextWriter output, string directory, int nodes, TimeSpan loadDuration, CancellationToken ct)
    {
        void Step(string title) => output.WriteLine($"\n== {title}");

        Step($"Starting a sharded store in {directory}: 2 replica groups over {Shards} shards, {nodes} processes (each hosts a replica of the controller and of both groups)");
        await using var cluster = await ShardedClusterStart.StartAsync(new ShardedLocalClusterOptions
        {
            Nodes = nodes,
            Groups = 2,
            Shards = Shards,
            Directory = directory,
            Flotilla = SelfInvocation.Current(),
        }, ct);
        output.WriteLine($"console: {cluster.Processes.ConsoleUrl}");
        using var controller = cluster.Controller();
        var first = await controller.QueryAsync(-1, TimeSpan.FromSeconds(20), ct);
        if (first.Config is not { } initial) throw new CliException($"the controller did not answer: {first.Error}", ExitCodes.Unavailable);
        output.WriteLine($"configuration {initial.Num}: {Describe(initial)}");

        var moves = Math.Clamp((int)(loadDuration.TotalSeconds * 2), 2, 40);
        Step($"Load: 16 clients for {loadDuration.TotalSeconds:0.#} s, half reads, while {moves} shard moves run; history recorded and checked");
        var engine = new BenchEngine(new ShardedBenchTarget(cluster.File), new BenchOptions
        {
            Clients = 16, Duration = loadDuration, Warmup = TimeSpan.Zero, Keys = 100, ValueBytes = 100, ReadRatio = 0.5, SharedWrites = true,
        });
        var load = engine.RunAsync(ct, recordHistory: true);
        var mover = MoveShardsAsync(controller, moves, loadDuration / moves, output, ct);
        var result = await load;
        var last = await mover;
        output.WriteLine($"{result.All.OpsPerSecond:0} ops/s (writes p50 {result.Writes.P50Ms:0.00} ms p99 {result.Writes.P99Ms:0.00} ms, max {result.Writes.MaxMs:0} ms); " +
                         $"errors: {(result.All.Errors.Count == 0 ? "none" : string.Join(", ", result.All.Errors.Select(e => $"{e.Key} {e.Value}")))}");
        DemoCommand.CheckHistory(output, engine, "sharded load", ct);
        output.WriteLine($"configuration {last}: the groups reached it with every shard served: {await WaitSettledAsync(cluster, last, TimeSpan.FromSeconds(30))}");

        Step("Stopping the sharded store");
        await cluster.StopAsync();
        output.WriteLine("done. 'flotilla cluster start --groups 2 --dir DIR' runs one until Ctrl-C; 'flotilla shard --help' moves shards by hand.");
    }

    /// <summary>Moves shard i to the group that does not own it, one every <paramref name="every"/>; returns the last
    /// configuration number.</summary>
    private static async Task<int> MoveShardsAsync(Server.Sharding.ShardCtlClient controller, int moves, TimeSpan every, TextWriter output, CancellationToken ct)
    {
        var last = 0;
        for (var i = 0; i < moves; i++)
        {
            await Task.Delay(every, ct);
            var latest = await controller.QueryAsync(-1, TimeSpan.FromSeconds(10), ct);
            if (latest.Config is not { } config) continue;
            var shard = (i * 5) % Shards;
            var to = config.Shards[shard] == 1 ? 2 : 1;
            var moved = await controller.MoveAsync(shard, to, TimeSpan.FromSeconds(10), ct);
            if (moved.Config is { } now)
            {
                last = now.Num;
                lock (output) output.WriteLine($"  move shard {shard,2} -> group {to} (configuration {now.Num})");
            }
        }
        return last;
    }

    private static async Task<bool> WaitSettledAsync(ShardedLocalCluster cluster, int num, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var statusArgs = new[] { "shard", "status", "--json", "--cluster", cluster.ClusterFilePath };
        while (DateTime.UtcNow < deadline)
        {
            var text = new StringWriter();
            if (await FlotillaCommand.RunAsync(statusArgs, text, TextWriter.Null) == ExitCodes.Ok)
            {
                using var json = System.Text.Json.JsonDocument.Parse(text.ToString());
                if (json.RootElement.GetProperty("shards").EnumerateArray().All(s => s.GetProperty("state").GetString() == "Serving" && s.GetProperty("group_config").GetInt32() >= num))
                    return true;
            }
            await Task.Delay(200);
        }
        return false;
    }

    private static string Describe(Config config) =>
        string.Join("; ", config.Groups.Keys.Order().Select(g => $"group {g} serves shards {string.Join(",", Enumerable.Range(0, config.Shards.Count).Where(s => config.Shards[s] == g))}"));
}
