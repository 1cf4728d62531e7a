using System.CommandLine;
using Flotilla.Cli.Bench;
using Flotilla.Cli.Bench.Etcd;
using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Commands;

/// <summary>
/// <c>flotilla bench kv</c>: the KV load generator, one engine for Flotilla and etcd (docs/bench-kv.md).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks: drive a KV store (Flotilla or etcd) with a fixed load and measure it.");
        bench.Subcommands.Add(LoadCommand());
        return bench;
    }

    private static Command LoadCommand()
    {
        var cluster = new Option<string>("--cluster")
        {
            Description = "Endpoints (host:port,host:port) or a cluster.json file.",
            Required = true,
        };
        var target = new Option<string>("--target") { Description = "What the endpoints are: flotilla or etcd.", DefaultValueFactory = _ => "flotilla" };
        target.AcceptOnlyFromAmong("flotilla", "etcd");
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, each with its own connection and one request in flight.", DefaultValueFactory = _ => 1 };
        var duration = new Option<string>("--duration") { Description = "Measured time (e.g. 10s, 500ms, 2m).", DefaultValueFactory = _ => "10s" };
        var warmup = new Option<string>("--warmup") { Description = "Unmeasured load before the measured time.", DefaultValueFactory = _ => "1s" };
        var keys = new Option<int>("--keys") { Description = "Distinct keys (16 bytes each).", DefaultValueFactory = _ => 1000 };
        var valueSize = new Option<int>("--value-size") { Description = "Bytes per written value.", DefaultValueFactory = _ => 100 };
        var readRatio = new Option<double>("--read-ratio") { Description = "Share of reads: 0 = put-only, 1 = read-only.", DefaultValueFactory = _ => 0.5 };
        var requestTimeout = new Option<string>("--request-timeout") { Description = "Deadline of every request.", DefaultValueFactory = _ => "2s" };
        var seed = new Option<int>("--seed") { Description = "Seeds key choice and values.", DefaultValueFactory = _ => 1 };
        var sharedWrites = new Option<bool>("--shared-writes") { Description = "Every client writes every key (version conflicts); default: each client writes its own keys." };
        var readAny = new Option<bool>("--read-any-member") { Description = "Start every get at a random member (for servers run with --reads follower); default: the member that answered last." };
        var history = new Option<string?>("--history") { Description = "Record every request to this file, for 'flotilla check'." };
        var cpuPids = new Option<string?>("--cpu-pids") { Description = "Comma-separated pids of the server processes: report their CPU per operation and peak memory (Linux /proc)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with all numbers instead of a table." };

        var command = new Command("kv", "Drive a KV cluster with C clients for a duration; print throughput, latency percentiles and errors.");
        foreach (var option in new Option[] { cluster, target, clients, duration, warmup, keys, valueSize, readRatio, requestTimeout, seed, sharedWrites, readAny, history, cpuPids, json })
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new BenchOptions
            {
                Clients = parse.GetValue(clients),
                Duration = BenchDuration.Parse(parse.GetValue(duration), "--duration"),
                Warmup = BenchDuration.Parse(parse.GetValue(warmup), "--warmup"),
                Keys = parse.GetValue(keys),
                ValueBytes = parse.GetValue(valueSize),
                ReadRatio = parse.GetValue(readRatio),
                RequestTimeout = BenchDuration.Parse(parse.GetValue(requestTimeout), "--request-timeout"),
                Seed = parse.GetValue(seed),
                SharedWrites = parse.GetValue(sharedWrites),
                HistoryPath = parse.GetValue(history),
                CpuPids = ParsePids(parse.GetValue(cpuPids)),
            };
            options.Validate();
            var endpoints = ClusterEndpoints.Parse(parse.GetValue(cluster)!, kind: null);
            await using IBenchTarget benchTarget = parse.GetValue(target) == "etcd"
                ? new EtcdBenchTarget(endpoints, recordPreviousVersion: options.HistoryPath is not null)
                : ShardedClusterTarget.IsSharded(parse.GetValue(cluster)) ? new ShardedBenchTarget(ShardedClusterTarget.Load(parse.GetValue(cluster)!))
                : new FlotillaBenchTarget(endpoints, parse.GetValue(readAny));
            return await RunAsync(benchTarget, options, parse.GetValue(json), parse.InvocationConfiguration, cancellationToken);
        });
        return command;
    }

    /// <summary>"12,34" → [12, 34]; anything but positive integers is a usage error.</summary>
    public static IReadOnlyList<int> ParsePids(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var pids = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) || pid <= 0)
                throw new CliException($"--cpu-pids: \"{part}\" is not a process id (expected e.g. 1234,1235)", ExitCodes.Usage);
            pids.Add(pid);
        }
        return pids;
    }

    /// <summary>Runs the engine, prints the result, saves the history. Public so tests can drive a fake target
    /// through exactly the command's path.</summary>
    public static async Task<int> RunAsync(IBenchTarget target, BenchOptions options, bool json, InvocationConfiguration io, CancellationToken cancellationToken)
    {
        var engine = new BenchEngine(target, options);
        BenchResult result;
        try
        {
            result = await engine.RunAsync(cancellationToken);
        }
        catch (BenchTargetException e)
        {
            throw new CliException(e.Message, ExitCodes.Failure, e);
        }
        if (options.HistoryPath is not null) engine.History!.Save(options.HistoryPath);
        if (json) BenchReportWriter.WriteJson(result, io.Output);
        else BenchReportWriter.WriteText(result, io.Output);
        if (!result.Interrupted) return ExitCodes.Ok;
        io.Error.WriteLine("flotilla: error: interrupted; the results above are partial");
        return ExitCodes.Failure;
    }
}
