using System.CommandLine;
using System.Diagnostics;
using Flotilla.Cli.Bench;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Client;
using Flotilla.Kv.Lock;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using Flotilla.Server.Cluster;

namespace Flotilla.Cli.Commands;

/// <summary>
/// <c>flotilla demo</c>: the quick-start tour. Starts a local 3-member cluster of separate server processes, uses the
/// replicated KV (conditional puts, a lock), puts it under load and checks the recorded history for linearizability,
/// kills the leader with SIGKILL and shows that no acknowledged write is lost, restarts it, and stops everything; then
/// the sharded tour (<see cref="ShardedDemo"/>): two replica groups, shards moving while clients write, a checked history.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var dir = new Option<string?>("--dir") { Description = "Keep the cluster's files here (default: a temporary directory, removed at the end)." };
        var nodes = new Option<int>("--nodes") { Description = "Cluster size.", DefaultValueFactory = _ => 3 };
        var load = new Option<double>("--load-seconds") { Description = "How long the load step runs.", DefaultValueFactory = _ => 3 };
        var sharded = new Option<bool>("--sharded") { Description = "Only the sharded tour: shards move between two groups while clients write; the history is checked." };
        var command = new Command("demo", "A guided tour on local clusters: the replicated KV (KV, lock, load with a linearizability check, leader crash, recovery), then the sharded KV (shards move while clients write; the history is checked).")
        {
            dir, nodes, load, sharded,
        };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var keep = parse.GetValue(dir) is not null;
            var directory = Path.GetFullPath(parse.GetValue(dir) ?? Path.Combine(Path.GetTempPath(), $"flotilla-demo-{Environment.ProcessId}"));
            var count = parse.GetValue(nodes);
            if (count is < 1 or > 9) throw new CliException("--nodes must be between 1 and 9", ExitCodes.Usage);
            try
            {
                var loadDuration = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(load), 0.5, 600));
                if (parse.GetValue(sharded))
                {
                    await ShardedDemo.RunAsync(output, directory, count, loadDuration, ct);
                }
                else
                {
                    await RunAsync(output, Path.Combine(directory, "replicated"), count, loadDuration, ct);
                    await ShardedDemo.RunAsync(output, Path.Combine(directory, "sharded"), count, loadDuration, ct);
                }
            }
            finally
            {
                if (!keep) TryDelete(directory);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Checks the load's recorded history for linearizability and says so; a history that is not is a bug.</summary>
    internal static void CheckHistory(TextWriter output, BenchEngine engine, string what, CancellationToken ct)
    {
        var history = engine.History!.Operations();
        var check = VersionedKv.Check(history, CheckOptions.WithTimeout(TimeSpan.FromSeconds(60)), ct);
        output.WriteLine($"{history.Count} operations checked in {check.Elapsed.TotalMilliseconds:0} ms: " + check.Outcome switch
        {
            CheckOutcome.Ok => "linearizable",
            CheckOutcome.Illegal => "NOT linearizable",
            _ => "unknown (the check timed out)",
        });
        if (check.Outcome == CheckOutcome.Illegal) throw new CliException($"the {what} history is not linearizable: this is a bug; please report it", ExitCodes.Failure);
    }

    private static async Task RunAsync(TextWriter output, string directory, int nodes, TimeSpan loadDuration, CancellationToken ct)
    {
        void Step(string title) => output.WriteLine($"\n== {title}");

        Step($"Starting a {nodes}-member cluster of separate flotilla server processes in {directory}");
        await using var cluster = await ClusterCommand.StartClusterAsync(nodes, directory, 0, [], ct);
        var endpoints = cluster.File.Endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList();
        var leader = await WaitForLeaderAsync(cluster, TimeSpan.FromSeconds(20));
        output.WriteLine($"members: {string.Join(", ", cluster.File.Members.Select(m => $"n{m.Id} {m.Address} (pid {m.Pid})"))}");
        output.WriteLine($"leader: n{leader}");
        output.WriteLine($"console: {cluster.ConsoleUrl}");

        using var channel = new GrpcKvChannel(endpoints);
        var client = new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(20) });

        Step("Versioned key/value: a put succeeds only at the version it names");
        Show(output, "put greeting=hello at version 0", await client.PutAsync("greeting", "hello", 0, ct));
        Show(output, "get greeting", await client.GetAsync("greeting", ct));
        Show(output, "put greeting=hi at version 0 (stale)", await client.PutAsync("greeting", "hi", 0, ct));
        Show(output, "put greeting=hi at version 1", await client.PutAsync("greeting", "hi", 1, ct));

        Step("A lock built by clients on Get/Put alone (lease + fencing token)");
        await using (var alice = new KvLock(client, "demo-lock", TimeProvider.System, new Random(2)))
        {
            if (!await alice.AcquireAsync(ct)) throw new CliException("the demo lock could not be acquired", ExitCodes.Failure);
            output.WriteLine($"alice holds the lock (fencing token {alice.FencingToken})");
            await alice.ReleaseAsync(ct);
            output.WriteLine("alice released it");
        }
        await using (var bob = new KvLock(client, "demo-lock", TimeProvider.System, new Random(3)))
        {
            if (!await bob.AcquireAsync(ct)) throw new CliException("the demo lock could not be acquired", ExitCodes.Failure);
            output.WriteLine($"bob holds the lock (fencing token {bob.FencingToken}: larger, so a storage service can refuse alice's late writes)");
            await bob.ReleaseAsync(ct);
        }

        Step($"Load: 16 clients for {loadDuration.TotalSeconds:0.#} s, half reads, history recorded and checked for linearizability");
        var engine = new BenchEngine(new FlotillaBenchTarget(endpoints), new BenchOptions
        {
            Clients = 16, Duration = loadDuration, Warmup = TimeSpan.Zero, Keys = 100, ValueBytes = 100, ReadRatio = 0.5, SharedWrites = true,
        });
        var result = await engine.RunAsync(ct, recordHistory: true);
        output.WriteLine($"{result.All.OpsPerSecond:0} ops/s (reads p50 {result.Reads.P50Ms:0.00} ms p99 {result.Reads.P99Ms:0.00} ms; " +
                         $"writes p50 {result.Writes.P50Ms:0.00} ms p99 {result.Writes.P99Ms:0.00} ms)");
        CheckHistory(output, engine, "load", ct);

        Step($"Crash: kill -9 of the leader n{leader}");
        cluster.Kill(leader);
        var crash = Stopwatch.StartNew();
        var write = await client.PutAsync("after-crash", "written", 0, ct);
        output.WriteLine($"first write after the crash: {Describe(write)} after {crash.ElapsedMilliseconds} ms (a new leader was elected)");
        Show(output, "get greeting (acknowledged before the crash)", await client.GetAsync("greeting", ct));
        var newLeader = await WaitForLeaderAsync(cluster, TimeSpan.FromSeconds(20));
        output.WriteLine($"new leader: n{newLeader}");

        Step($"Recovery: restart n{leader} on its old data directory; it catches up from the log");
        cluster.Launch(leader);
        await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30), ct);
        await WaitCaughtUpAsync(cluster, TimeSpan.FromSeconds(30));
        foreach (var (id, status) in await cluster.StatusAsync(TimeSpan.FromSeconds(3)))
            output.WriteLine(status is null ? $"n{id}: unreachable" : $"n{id}: {status.Role,-9} term {status.Term} commit {status.CommitIndex} applied {status.AppliedIndex}");

        Step("Stopping the cluster");
        await cluster.StopAsync();
        output.WriteLine("done. Next: 'flotilla cluster start --nodes 3 --dir DIR' runs a cluster until Ctrl-C; 'flotilla --help' lists everything.");
    }

    private static async Task<int> WaitForLeaderAsync(LocalCluster cluster, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var statuses = await cluster.StatusAsync(TimeSpan.FromSeconds(1));
            if (statuses.Values.FirstOrDefault(s => s?.Role == "Leader") is { } leader) return leader.Id;
            await Task.Delay(100);
        }
        throw new CliException($"no leader was elected within {timeout.TotalSeconds:0} s", ExitCodes.Failure);
    }

    private static async Task WaitCaughtUpAsync(LocalCluster cluster, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var statuses = (await cluster.StatusAsync(TimeSpan.FromSeconds(1))).Values.ToList();
            if (statuses.All(s => s is not null) && statuses.Select(s => s!.AppliedIndex).Distinct().Count() == 1) return;
            await Task.Delay(100);
        }
        throw new CliException($"the restarted member did not catch up within {timeout.TotalSeconds:0} s", ExitCodes.Failure);
    }

    private static void Show(TextWriter output, string what, KvPutResult result) => output.WriteLine($"{what,-45} -> {Describe(result)}");

    private static void Show(TextWriter output, string what, KvGetResult result) =>
        output.WriteLine($"{what,-45} -> {(result.IsOk ? $"\"{result.Value}\" at version {result.Version}" : result.Status.ToString())}");

    private static string Describe(KvPutResult result) => result.IsOk ? "OK" : result.Status.ToString();

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
