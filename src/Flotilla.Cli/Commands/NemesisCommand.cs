using System.CommandLine;
using System.Runtime.InteropServices;
using Flotilla.Cli.Bench;
using Flotilla.Cli.Infrastructure;
using Flotilla.Cli.Nemesis;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla nemesis</c>: Jepsen-style fault testing of a real cluster (docs/testing.md). The logic is in
/// Nemesis/; this file is the command line.</summary>
public static class NemesisCommand
{
    public static Command Create()
    {
        var duration = new Option<string>("--duration") { Description = "How long faults are injected (e.g. 20s, 2m).", DefaultValueFactory = _ => "60s" };
        var faults = new Option<string>("--faults")
        {
            Description = "Fault families, comma-separated: partition, pause, kill, loss, disk, move (shard moves; needs --groups 2 or more), latency, disk-full (or full), clock, member (membership changes; replicated KV only).",
            DefaultValueFactory = _ => "partition,pause,kill,loss",
        };
        var nodes = new Option<int>("--nodes") { Description = "Cluster size: 3 or 5.", DefaultValueFactory = _ => 3 };
        var groups = new Option<int>("--groups") { Description = "0: the replicated KV. G (1 to 4): the sharded store with G replica groups over 16 shards.", DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { Description = "Seed of the fault schedule and the clients (same seed, same schedule).", DefaultValueFactory = _ => 1 };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients (1 to 64).", DefaultValueFactory = _ => 12 };
        var keys = new Option<int>("--keys") { Description = "Keys they share (1 to 100; few keys, much contention).", DefaultValueFactory = _ => 4 };
        var lockClients = new Option<int>("--lock-clients") { Description = "Clients taking turns on the lock (0 to 8), besides --clients.", DefaultValueFactory = _ => 2 };
        var report = new Option<string>("--report") { Description = "Directory for the HTML view, faults.log, server logs (and data directories on failure).", Required = true };
        var history = new Option<string?>("--history") { Description = "Where to write the recorded history (default: REPORT/history.json)." };
        var recovery = new Option<string>("--recovery-limit") { Description = "How long after healing a put must succeed again.", DefaultValueFactory = _ => "30s" };
        var checkTimeout = new Option<string>("--check-timeout") { Description = "How long the linearizability check may take before the verdict is 'unknown'.", DefaultValueFactory = _ => "5m" };
        var command = new Command("nemesis",
            "Fault-test a real cluster: server processes in their own network namespaces, contended client traffic, partitions, " +
            "pauses, kills, packet loss, latency, clock skew, full and faulty disks, membership changes on a schedule from the seed; checks the history for linearizability. Needs root, ip and nft.")
        {
            duration, faults, nodes, groups, seed, clients, keys, lockClients, report, history, recovery, checkTimeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            var reportDirectory = parse.GetValue(report)!;
            IReadOnlyList<FaultFamily> families;
            try { families = PlannedFault.ParseFamilies(parse.GetValue(faults)!); }
            catch (FormatException e) { throw new CliException($"--faults: {e.Message}", ExitCodes.Usage); }
            var options = new NemesisOptions
            {
                Duration = BenchDuration.Parse(parse.GetValue(duration), "--duration"),
                Faults = families,
                Nodes = parse.GetValue(nodes) is var n && n is 3 or 5 ? n : throw new CliException("--nodes must be 3 or 5", ExitCodes.Usage),
                Groups = parse.GetValue(groups) is >= 0 and <= 4 and var g ? g : throw new CliException("--groups must be between 0 and 4", ExitCodes.Usage),
                Seed = parse.GetValue(seed),
                Clients = parse.GetValue(clients) is >= 1 and <= 64 and var c ? c : throw new CliException("--clients must be between 1 and 64", ExitCodes.Usage),
                Keys = parse.GetValue(keys) is >= 1 and <= 100 and var k ? k : throw new CliException("--keys must be between 1 and 100", ExitCodes.Usage),
                LockClients = parse.GetValue(lockClients) is >= 0 and <= 8 and var l ? l : throw new CliException("--lock-clients must be between 0 and 8", ExitCodes.Usage),
                ReportDirectory = reportDirectory,
                HistoryFile = parse.GetValue(history) ?? Path.Combine(reportDirectory, "history.json"),
                RecoveryLimit = BenchDuration.Parse(parse.GetValue(recovery), "--recovery-limit"),
                CheckTimeout = BenchDuration.Parse(parse.GetValue(checkTimeout), "--check-timeout"),
            };
            if (options.Faults.Contains(FaultFamily.Move) && options.Groups < 2)
                throw new CliException("--faults move needs a sharded store of 2 or more groups (--groups 2)", ExitCodes.Usage);
            // Member faults change the one Raft group of the replicated KV; the sharded store hosts a replica of every
            // group in every process, whose membership changes nothing here drives.
            if (options.Faults.Contains(FaultFamily.Member) && options.Groups > 0)
                throw new CliException("--faults member is for the replicated KV (--groups 0), not the sharded store", ExitCodes.Usage);
            if (options.Duration < TimeSpan.FromSeconds(5)) throw new CliException("--duration must be at least 5s", ExitCodes.Usage);
            // SIGTERM stops a run like Ctrl-C: heal, kill the members, remove the namespaces.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
            try
            {
                return await new NemesisRunner(options, parse.InvocationConfiguration.Output).RunAsync(stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                throw new CliException("interrupted (the members, namespaces and nftables rules were removed)", ExitCodes.Failure);
            }
        });
        return command;
    }
}
