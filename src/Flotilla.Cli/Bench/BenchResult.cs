namespace Flotilla.Cli.Bench;

/// <summary>The numbers of one kind of operation over the measured window. Latencies in milliseconds.</summary>
public sealed record OpSummary(
    long Ok,
    double OpsPerSecond,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double MaxMs,
    double MeanMs,
    IReadOnlyDictionary<string, long> Errors)
{
    /// <summary>Successful operations per second; failed ones are counted in <see cref="Errors"/>, never as throughput.</summary>
    public static OpSummary From(OpStats stats, double seconds)
    {
        var h = stats.LatencyNs;
        static double Ms(long ns) => ns / 1e6;
        var errors = Enum.GetValues<BenchStatus>()
            .Where(s => s != BenchStatus.Ok && stats.Count(s) > 0)
            .ToDictionary(s => s.ToString(), stats.Count);
        return new OpSummary(stats.Ok, seconds > 0 ? stats.Ok / seconds : 0,
            Ms(h.ValueAtPercentile(50)), Ms(h.ValueAtPercentile(90)), Ms(h.ValueAtPercentile(99)), Ms(h.Max), h.Mean / 1e6, errors);
    }
}

/// <summary>Everything a run measured; printed as text or as one JSON object.</summary>
public sealed record BenchResult(
    string Target,
    string Endpoints,
    BenchOptions Options,
    double MeasuredSeconds,
    bool Interrupted,
    bool StoppedByHistoryLimit,
    int PreloadedKeys,
    OpSummary Reads,
    OpSummary Writes,
    OpSummary All,
    long PutRequests,
    long RefreshGets,
    long Conflicts,
    long HistoryOperations,
    ServerCpu? ServerCpu = null);
