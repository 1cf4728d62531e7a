using System.Diagnostics;

namespace Flotilla.Bench.Raft;

/// <summary>Result of one measured window: successful operations, their rate, and latency percentiles (exact: every
/// sample is kept, runs are seconds long).</summary>
public sealed record LatencyStats(string Label, int Concurrency, long Ok, long Failed, double Seconds, double P50Us, double P99Us, double MaxUs)
{
    public double OpsPerSecond => Seconds > 0 ? Ok / Seconds : 0;

    /// <summary>CPU µs per successful operation over the system's node processes (NaN where not measured).</summary>
    public double CpuUsPerOp { get; init; } = double.NaN;

    /// <summary>The summed peak resident set of the system's node processes at the end of the window (0: not measured).</summary>
    public long PeakRssBytes { get; init; }

    public static LatencyStats From(string label, int concurrency, List<long> samplesTicks, long failed, double seconds)
    {
        samplesTicks.Sort();
        double Us(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
        double Pct(double q) => samplesTicks.Count == 0 ? double.NaN : Us(samplesTicks[Math.Min(samplesTicks.Count - 1, (int)Math.Ceiling(q * samplesTicks.Count) - 1)]);
        return new LatencyStats(label, concurrency, samplesTicks.Count, failed, seconds, Pct(0.50), Pct(0.99),
            samplesTicks.Count == 0 ? double.NaN : Us(samplesTicks[^1]));
    }

    /// <summary>One line on the wire between node and driver: tab-separated, culture-invariant.</summary>
    public string ToLine() => string.Join('\t', Label, Concurrency, Ok, Failed, R(Seconds), R(P50Us), R(P99Us), R(MaxUs));

    public static LatencyStats FromLine(string line)
    {
        var f = line.Split('\t');
        return new LatencyStats(f[0], int.Parse(f[1]), long.Parse(f[2]), long.Parse(f[3]), D(f[4]), D(f[5]), D(f[6]), D(f[7]));
    }

    private static string R(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
    private static double D(string s) => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
}
