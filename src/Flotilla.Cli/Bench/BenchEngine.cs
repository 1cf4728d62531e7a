using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Bench;

/// <summary>
/// The load engine, the same for every target: checks the target answers, preloads keys (when the load reads),
/// runs <see cref="BenchOptions.Clients"/> concurrent client loops through warmup and the measured window, and merges
/// their numbers. Bounded: each request has a deadline, the run ends by itself, and <c>abort</c> (Ctrl-C) ends it at
/// once with what was measured so far.
/// </summary>
public sealed class BenchEngine(IBenchTarget target, BenchOptions options, TimeProvider? time = null)
{
    private static readonly TimeSpan ProbeRetryPause = TimeSpan.FromMilliseconds(50);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The history of the last run (null unless <see cref="BenchOptions.HistoryPath"/> or <c>recordHistory</c>).</summary>
    public BenchHistory? History { get; private set; }

    public async Task<BenchResult> RunAsync(CancellationToken abort, bool recordHistory = false)
    {
        options.Validate();
        var origin = _time.GetTimestamp();
        History = recordHistory || options.HistoryPath is not null ? new BenchHistory(_time, origin) : null;
        var sessions = new List<IBenchSession>();
        try
        {
            for (var i = 0; i < options.Clients; i++) sessions.Add(target.OpenSession(i, options.RequestTimeout));
            var clients = sessions.Select((s, i) => new BenchClient(i, s, options, _time, History)).ToArray();
            await ProbeAsync(sessions[0], abort);

            var preloaded = 0;
            if (options.ReadRatio > 0 && !abort.IsCancellationRequested)
            {
                try
                {
                    preloaded = (await Task.WhenAll(clients.Select(c => Task.Run(() => c.PreloadAsync(abort), CancellationToken.None)))).Sum();
                }
                catch (Exception) when (abort.IsCancellationRequested)
                {
                    // Interrupted while preloading: report an empty run rather than an error.
                }
            }

            var runStart = _time.GetTimestamp();
            var measureFrom = runStart + Ticks(options.Warmup);
            var measureUntil = measureFrom + Ticks(options.Duration);
            using var stop = new CancellationTokenSource(options.Warmup + options.Duration, _time);
            using var historyWatch = History is null ? null : WatchHistoryLimit(History, stop);
            var cpuWindow = options.CpuPids.Count == 0 ? null : SampleCpuAsync(abort);
            await Task.WhenAll(clients.Select(c => Task.Run(() => c.RunAsync(measureFrom, measureUntil, stop.Token, abort), CancellationToken.None)));
            var ended = _time.GetTimestamp();
            var cpuSamples = cpuWindow is null ? null : await cpuWindow;

            var total = new ClientStats();
            foreach (var c in clients) total.Add(c.Stats);
            var all = new OpStats();
            all.Add(total.Reads);
            all.Add(total.Writes);
            // Interrupted or cut short: divide by the part of the window that actually ran.
            var seconds = Seconds(Math.Clamp(ended, measureFrom, measureUntil) - measureFrom);
            return new BenchResult(target.Name, target.Description, options, seconds,
                Interrupted: abort.IsCancellationRequested,
                StoppedByHistoryLimit: History?.IsFull == true,
                preloaded,
                OpSummary.From(total.Reads, seconds), OpSummary.From(total.Writes, seconds), OpSummary.From(all, seconds),
                total.PutRequests, total.RefreshGets, total.Conflicts, History?.Count ?? 0,
                cpuSamples is null ? null : ServerCpu.From(cpuSamples.Value.Start, cpuSamples.Value.End, all.Ok));
        }
        finally
        {
            foreach (var session in sessions) await session.DisposeAsync();
        }
    }

    /// <summary>One get before anything else, so an unreachable target is one clear error (exit 3) within about one
    /// request deadline instead of a run full of failures. Quick failures (a refused connection) are retried until the
    /// deadline, so a target that moves to its next endpoint on failure (etcd) finds a live member.</summary>
    private async Task ProbeAsync(IBenchSession session, CancellationToken abort)
    {
        var started = _time.GetTimestamp();
        BenchRead probe;
        // The socket's own words from any attempt: the last attempt may end in a bare DeadlineExceeded (a retry still
        // waiting out gRPC's reconnect backoff when the deadline came), which says less than "Connection refused".
        string? socketCause = null;
        try
        {
            while (true)
            {
                probe = await session.GetAsync(BenchWorkload.Key(0), abort);
                if (probe.Status == BenchStatus.Unavailable && probe.Detail?.Contains("unreachable (", StringComparison.Ordinal) == true)
                    socketCause = probe.Detail;
                if (probe.Status != BenchStatus.Unavailable || _time.GetElapsedTime(started) >= options.RequestTimeout) break;
                await Task.Delay(ProbeRetryPause, _time, abort);
            }
        }
        catch (Exception e) when (abort.IsCancellationRequested)
        {
            throw new OperationCanceledException("interrupted while connecting", e, abort);
        }
        if (probe.Status == BenchStatus.Unavailable)
            throw new CliException($"cannot reach {target.Name} at {target.Description} within {options.RequestTimeout.TotalSeconds:0.###}s: {socketCause ?? probe.Detail}",
                ExitCodes.Unavailable);
        if (probe.Status is not (BenchStatus.Ok or BenchStatus.ErrNoKey))
            throw new CliException($"{target.Name} at {target.Description} refused a get: {probe.Status} {probe.Detail}", ExitCodes.Failure);
    }

    /// <summary>Reads the watched processes' CPU at the start and at the end of the measured window (null when the run
    /// was interrupted before the window ended: a partial window's CPU would not match its operations).</summary>
    private async Task<(IReadOnlyList<ProcessCpuSample> Start, IReadOnlyList<ProcessCpuSample?> End)?> SampleCpuAsync(CancellationToken abort)
    {
        try
        {
            await Task.Delay(options.Warmup, _time, abort);
            var start = options.CpuPids.Select(ProcessCpuMeter.Read).Where(s => s is not null).Select(s => s!.Value).ToArray();
            await Task.Delay(options.Duration, _time, abort);
            return (start, options.CpuPids.Select(ProcessCpuMeter.Read).ToArray());
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Stops the run when the in-memory history reaches its bound (checked every 100 ms).</summary>
    private ITimer WatchHistoryLimit(BenchHistory history, CancellationTokenSource stop) =>
        _time.CreateTimer(_ =>
        {
            if (history.IsFull) stop.Cancel();
        }, null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private double Seconds(long ticks) => (double)ticks / _time.TimestampFrequency;
}
