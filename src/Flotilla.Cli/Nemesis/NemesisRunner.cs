using System.Diagnostics;
using System.Globalization;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Client;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using Flotilla.Linearizability.Reporting;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// One nemesis run end to end: network and cluster up, contended traffic, the seed's faults one after another, heal,
/// time to recovered availability, acknowledged writes read back, the history checked, the report written, and
/// everything torn down (also on Ctrl-C and on failure). Returns the exit code; the last line printed is the verdict.
/// </summary>
public sealed class NemesisRunner(NemesisOptions options, TextWriter output)
{
    private const int ProbeClient = 0;
    private const string RecoveryKey = "recovery";
    private readonly Stopwatch _clock = new();
    private StreamWriter? _faultLog;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        if (NemesisEnvironment.Missing() is { } missing) throw new CliException($"nemesis {missing}", ExitCodes.Failure);
        var report = Path.GetFullPath(options.ReportDirectory);
        var nodesDirectory = Path.Combine(report, "nodes");
        // A killed earlier run may have left its small disks mounted under the report.
        await NemesisDisks.UnmountLeftoversAsync();
        if (Directory.Exists(nodesDirectory)) Directory.Delete(nodesDirectory, recursive: true);
        Directory.CreateDirectory(report);
        _faultLog = new StreamWriter(Path.Combine(report, "faults.log"), append: false) { AutoFlush = true };
        var schedule = NemesisSchedule.Draw(options.Seed, options.Faults, options.Nodes, options.Duration);
        // Members the member faults add get namespaces of their own, made now: the clients are given every address the
        // run will use, as an operator lists the hosts a cluster may grow onto (and KvClient follows leader hints).
        var network = new NetnsTopology(options.Nodes + NemesisSchedule.NewMembers(schedule));
        var cluster = new NemesisCluster(options.Nodes, nodesDirectory, SelfInvocation.Current(), options.Groups, options.Shards, smallDisks: options.Faults.Contains(FaultFamily.DiskFull),
            runtimeFaults: options.Faults.Contains(FaultFamily.Latency) || options.Faults.Contains(FaultFamily.Clock));
        var history = VersionedKv.CreateRecorder();
        var connect = options.Groups > 0 ? NemesisConnect.Sharded(cluster.ClientEndpoints) : NemesisConnect.Replicated(network.ClientEndpoints);
        var workload = new NemesisWorkload(connect, options.Clients, options.Keys, options.Seed, history, options.LockClients);
        var failure = (string?)null;
        TimeSpan? recovery = null;
        var lost = new List<string>();
        var injected = 0;
        var succeeded = false;
        var store = options.Groups > 0 ? $"sharded store: {options.Groups} groups over {options.Shards} shards" : "replicated KV";
        Log($"seed {options.Seed}, {options.Nodes} nodes ({store}), {options.Clients} clients on {options.Keys} keys + {options.LockClients} lock clients, {schedule.Count} faults planned over {options.Duration.TotalSeconds:0} s ({string.Join(",", options.Faults.Select(PlannedFault.NameOf))})");
        try
        {
            await network.CreateAsync();
            await cluster.StartAllAsync(TimeSpan.FromSeconds(60), ct);
            var (probe, probeConnections) = connect(new Random((int)options.Seed));
            using var _ = probeConnections;
            if (await FirstPutAsync(workload, probe, TimeSpan.FromSeconds(30), ct) is null)
                throw new NemesisFailure("the cluster never accepted a first put (no leader within 30 s)");
            Log($"cluster up: {string.Join(", ", cluster.Members.Select(n => $"n{n}={NetnsTopology.Address(n)} pid {cluster.Pid(n)}"))}");

            var injector = new FaultInjector(network, cluster, new Random((int)options.Seed ^ 0x5eed), Log);
            using var stopTraffic = new CancellationTokenSource();
            using var abortTraffic = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _clock.Restart();
            var traffic = workload.RunAsync(stopTraffic.Token, abortTraffic.Token);
            var slip = TimeSpan.Zero;
            try
            {
                slip = await RunScheduleAsync(schedule, injector, ct);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or HostCommandException)
            {
                // A member that does not come back after a fault is a finding, not a crash of the tool.
                failure = $"fault injection failed: {e.Message}";
            }
            finally
            {
                injected = injector.Injected;
                Log($"injected {injected} fault(s): {string.Join(" ", options.Faults.Select(f => $"{PlannedFault.NameOf(f)}={injector.InjectedByFamily.GetValueOrDefault(f)}"))}");
                if (options.Groups > 0) Log($"{injector.ShardsMoved} shard move(s) accepted by the controller");
            }
            await WaitUntilAsync(options.Duration + slip, ct);
            Log("healing every fault");
            // Probe while healing: availability may come back before every member has restarted.
            var recovered = FirstPutAsync(workload, probe, options.RecoveryLimit, ct);
            try { await injector.HealAllAsync(ct); }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or HostCommandException)
            {
                // After a failed injection the heal may fail as a consequence (a member wiped for a replacement that did
                // not finish cannot restart): the first failure is the finding, this one is logged.
                if (failure is null) failure = $"healing failed: {e.Message}";
                else Log($"healing failed too: {e.Message}");
            }
            recovery = await recovered;
            if (options.Faults.Contains(FaultFamily.Member))
                Log($"{injector.MembersChanged} membership change(s) completed, {injector.LeadershipTransfers} leadership transfer(s); members now {string.Join(",", cluster.Members.Select(n => $"n{n}"))}");
            if (failure is null && injector.UnexpectedExits.Count > 0) failure = $"a member crashed: {string.Join("; ", injector.UnexpectedExits)}";
            Log(recovery is { } r ? $"recovered: first acknowledged put {r.TotalSeconds:0.00} s after healing began" : $"NOT recovered within {options.RecoveryLimit.TotalSeconds:0} s");
            stopTraffic.Cancel();
            await traffic;
            if (recovery is not null) lost.AddRange(await ReadBackAsync(workload, probe, ct));
            succeeded = true;
        }
        catch (NemesisFailure e)
        {
            failure = e.Message;
        }
        catch (Exception e) when (e is HostCommandException or InvalidOperationException or TimeoutException)
        {
            failure = $"setup failed: {e.Message}";
        }
        finally
        {
            await cluster.DisposeAsync();
            await NetnsTopology.RemoveLeftoversAsync();
            if (ct.IsCancellationRequested) _faultLog.Dispose();
        }
        ct.ThrowIfCancellationRequested();

        var lockViolations = workload.Holds.Violations(Stopwatch.Frequency / 1000.0);
        if (options.LockClients > 0)
            Log(lockViolations.Count == 0
                ? $"lock: {workload.Holds.Count} holds by {options.LockClients} clients, none overlapping"
                : $"lock: {lockViolations.Count} overlapping hold(s): {string.Join("; ", lockViolations.Take(3))}");
        var operations = history.Operations;
        SaveHistory(history, options.HistoryFile);
        var check = Stopwatch.StartNew();
        var checkReport = VersionedKv.CheckAndReport(operations, new CheckOptions { Timeout = options.CheckTimeout == TimeSpan.Zero ? null : options.CheckTimeout }, ct);
        Log($"checked {operations.Count} operations in {check.Elapsed.TotalSeconds:0.00} s: {checkReport.Summary()}");
        foreach (var line in checkReport.Details()) _faultLog.WriteLine(line);
        var html = Path.Combine(report, "history.html");
        File.WriteAllText(html, HistoryHtml.Render(checkReport, $"flotilla nemesis --seed {options.Seed}"));
        var findings = new NemesisFindings
        {
            Operations = operations.Count,
            Maybe = workload.Maybe,
            Faults = injected,
            Recovery = recovery,
            RecoveryLimit = options.RecoveryLimit,
            Check = checkReport.Result.Outcome,
            CheckSummary = checkReport.Summary(),
            LostWrites = lost,
            LockViolations = lockViolations,
        };
        var (code, verdict) = NemesisVerdict.Decide(findings);
        if (failure is not null) (code, verdict) = (ExitCodes.Failure, $"nemesis: FAILED: {failure} (ops={operations.Count} faults={injected}; report {report})");
        // Keep the data directories only when they explain a failure; the logs always.
        if (code == ExitCodes.Ok && succeeded)
            foreach (var node in cluster.EverStarted) TryDelete(cluster.DataDirectory(node));
        output.WriteLine($"report: {html} (server logs and faults.log in {report}{(code == ExitCodes.Ok ? "" : ", data directories kept")})");
        _faultLog.WriteLine(verdict);
        _faultLog.Dispose();
        output.WriteLine(verdict);
        return code;
    }

    /// <summary>Each fault in turn, for its planned length; the last one (in force at the end) is left for the final
    /// heal. A step that ran late (a restart that took seconds) delays the rest of the schedule by as much, so no fault
    /// is cut short and no gap disappears; returns that delay.</summary>
    private async Task<TimeSpan> RunScheduleAsync(IReadOnlyList<PlannedFault> schedule, FaultInjector injector, CancellationToken ct)
    {
        var slip = TimeSpan.Zero;
        foreach (var fault in schedule)
        {
            await WaitUntilAsync(fault.At + slip, ct);
            var targets = await injector.InjectAsync(fault, ct);
            slip = Later(slip, fault.At);
            if (fault.End >= options.Duration) break;
            await WaitUntilAsync(fault.End + slip, ct);
            await injector.HealAsync(fault, targets, ct);
            slip = Later(slip, fault.End);
        }
        return slip;
    }

    /// <summary>The schedule's delay after a step planned at <paramref name="planned"/> that just finished.</summary>
    private TimeSpan Later(TimeSpan slip, TimeSpan planned) => _clock.Elapsed - planned > slip ? _clock.Elapsed - planned : slip;

    /// <summary>Puts on the recovery key until one is acknowledged (recorded like every other request); the time it
    /// took, or null when <paramref name="limit"/> passed first.</summary>
    private static async Task<TimeSpan?> FirstPutAsync(NemesisWorkload workload, IKvClient probe, TimeSpan limit, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var attempt = 0;
        while (started.Elapsed < limit)
        {
            if (await workload.GetAsync(probe, ProbeClient, RecoveryKey, ct) is { } version
                && await workload.PutAsync(probe, ProbeClient, RecoveryKey, $"probe-{++attempt}-{Environment.TickCount64}", version, ct) == KvStatus.Ok)
                return started.Elapsed;
            await Task.Delay(50, ct);
        }
        return null;
    }

    /// <summary>Reads every key after healing: each must be at its latest acknowledged version or later (and hold the
    /// value acknowledged with it when at exactly that version). The reads go into the history too.</summary>
    private static async Task<List<string>> ReadBackAsync(NemesisWorkload workload, IKvClient probe, CancellationToken ct)
    {
        var lost = new List<string>();
        foreach (var (key, acked) in workload.Acknowledged.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var read = await workload.ReadAsync(probe, ProbeClient, key, ct);
            if (read.Status == KvStatus.Unavailable) read = await workload.ReadAsync(probe, ProbeClient, key, ct);
            if (read.Status == KvStatus.ErrNoKey) lost.Add($"{key}: acknowledged version {acked.Version}, now absent");
            else if (read.Status != KvStatus.Ok) lost.Add($"{key}: acknowledged version {acked.Version}, not readable ({read.Status})");
            else if ((long)read.Version < acked.Version) lost.Add($"{key}: acknowledged version {acked.Version}, read version {read.Version}");
            else if ((long)read.Version == acked.Version && read.Value != acked.Value) lost.Add($"{key}: version {acked.Version} acknowledged \"{acked.Value}\", read \"{read.Value}\"");
        }
        return lost;
    }

    private async Task WaitUntilAsync(TimeSpan at, CancellationToken ct)
    {
        var left = at - _clock.Elapsed;
        if (left > TimeSpan.Zero) await Task.Delay(left, ct);
    }

    private static void SaveHistory(HistoryRecorder<KvInput, KvOutput> history, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        history.Save(path);
    }

    private void Log(string line)
    {
        var stamped = _clock.IsRunning ? $"  t={_clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s {line}" : $"  {line}";
        lock (output) output.WriteLine(stamped);
        _faultLog?.WriteLine(stamped);
    }

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
    }

    private sealed class NemesisFailure(string message) : Exception(message);
}
