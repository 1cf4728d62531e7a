using System.Globalization;

namespace Flotilla.Bench.Raft;

/// <summary>The table the run prints, plus the issue's target line: single-proposer commit p50 against
/// 1.5 × (fsync p50 + loopback round trip p50).</summary>
public static class ResultTable
{
    public static void Print(BenchSettings settings, List<(string System, LatencyStats Stats)> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"Raft commit, 3 members on loopback, fsync on; {settings.CommandBytes}-byte commands, {settings.Window.TotalSeconds:0.##} s windows after {settings.Warmup.TotalSeconds:0.##} s warmup; {Environment.ProcessorCount} cores; loadavg {LoadAverage()}");
        Console.WriteLine($"{"system",-9} {"what",-22} {"conc",5} {"ops/s",10} {"p50 us",10} {"p99 us",10} {"max us",10} {"failed",7} {"cpu us/op",10} {"rss MiB",8}");
        foreach (var (system, s) in rows)
        {
            var what = s.Label.Contains("sync-", StringComparison.Ordinal) || s.Label.EndsWith("rtt", StringComparison.Ordinal) ? s.Label : "commit";
            Console.WriteLine($"{system,-9} {what,-22} {s.Concurrency,5} {F(s.OpsPerSecond),10} {F(s.P50Us),10} {F(s.P99Us),10} {F(s.MaxUs),10} {s.Failed,7} {F(s.CpuUsPerOp),10} {(s.PeakRssBytes > 0 ? F(s.PeakRssBytes / 1048576.0) : "-"),8}");
        }
        // The floor is the cheapest durable 4 KiB write measured in this run (any pattern a log may legitimately use) plus the raw loopback
        // TCP round trip: a commit needs at least one durable write and one round trip to a follower.
        var fsync = rows.Where(r => r.Stats.Label.Contains("sync-4k", StringComparison.Ordinal)).MinBy(r => r.Stats.P50Us).Stats;
        var rtt = rows.First(r => r.Stats.Label == "tcp-rtt").Stats;
        var floorUs = fsync.P50Us + rtt.P50Us;
        // With all three members on one disk, a commit's two durable copies share the device: the quorum probe
        // measures that share directly (see FsyncProbe.Quorum).
        var quorum = rows.Where(r => r.Stats.Label == "fsync-quorum-2of3").Select(r => r.Stats).FirstOrDefault();
        var sharedFloorUs = quorum is null ? double.NaN : quorum.P50Us + rtt.P50Us;
        // CPU per commit at each concurrency, Flotilla's over DotNext's (below 1: Flotilla spends less).
        var cpuRatios = rows.Where(r => r.System == "flotilla" && !double.IsNaN(r.Stats.CpuUsPerOp) && r.Stats.Label == "flotilla")
            .Select(f => (f.Stats.Concurrency, F: f.Stats.CpuUsPerOp,
                D: rows.Where(d => d.System == "dotnext" && d.Stats.Label == "dotnext" && d.Stats.Concurrency == f.Stats.Concurrency)
                    .Select(d => d.Stats.CpuUsPerOp).FirstOrDefault(double.NaN)))
            .Where(x => !double.IsNaN(x.D) && x.D > 0)
            .Select(x => FormattableString.Invariant($"cpu_c{x.Concurrency}={x.F / x.D:0.000}")).ToArray();
        if (cpuRatios.Length > 0) Console.WriteLine($"flotilla/dotnext {string.Join(' ', cpuRatios)}");
        foreach (var system in new[] { "flotilla", "dotnext" })
        {
            var single = rows.FirstOrDefault(r => r.System == system && r.Stats.Label == system && r.Stats.Concurrency == 1).Stats;
            if (single is null) continue;
            Console.WriteLine($"{system}: 1-proposer commit p50 {F(single.P50Us)} us = {single.P50Us / floorUs:0.00} x floor ({fsync.Label} p50 {F(fsync.P50Us)} + tcp-rtt p50 {F(rtt.P50Us)} = {F(floorUs)} us); target <= 1.5 x");
            if (!double.IsNaN(sharedFloorUs))
                Console.WriteLine($"{system}: 1-proposer commit p50 {F(single.P50Us)} us = {single.P50Us / sharedFloorUs:0.00} x shared-disk floor (fsync-quorum-2of3 p50 {F(quorum!.P50Us)} + tcp-rtt p50 {F(rtt.P50Us)} = {F(sharedFloorUs)} us)");
        }
    }

    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
}
