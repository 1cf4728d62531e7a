using Flotilla.Cli.Bench;

namespace Flotilla.Bench.Raft;

/// <summary>
/// CPU per committed command, summed over a system's 3 node processes: /proc read after the warmup and again at the
/// end of the measured window, while the leader runs the load (the loop runs inside the leader process on both sides,
/// so the proposers' own CPU is in both numbers alike). Timed by the driver's clock around the leader's own window,
/// so the two can be a few milliseconds apart out of seconds.
/// </summary>
public static class WindowCpu
{
    public static async Task<LatencyStats> MeasureAsync(IReadOnlyList<int> pids, TimeSpan warmup, TimeSpan window, Task<LatencyStats> load)
    {
        await Task.WhenAny(load, Task.Delay(warmup));
        var start = pids.Select(ProcessCpuMeter.Read).Where(s => s is not null).Select(s => s!.Value).ToArray();
        await Task.WhenAny(load, Task.Delay(window));
        var end = pids.Select(ProcessCpuMeter.Read).ToArray();
        var stats = await load;
        var cpu = ServerCpu.From(start, end, stats.Ok);
        return stats with { CpuUsPerOp = cpu.CpuMsPerOp * 1000, PeakRssBytes = cpu.PeakRssBytes };
    }
}
