using System.Globalization;
using System.Runtime.InteropServices;

namespace Flotilla.Cli.Bench;

/// <summary>One reading of a process's CPU time (user + system, every thread) and its peak resident set, from
/// /proc (Linux only).</summary>
public readonly record struct ProcessCpuSample(int Pid, double CpuSeconds, long PeakRssBytes);

/// <summary>
/// Reads what server processes spend, so a benchmark can report CPU per completed operation and peak memory for
/// each system it compares: /proc/PID/stat fields 14 and 15 (utime, stime, in clock ticks, all threads) and
/// /proc/PID/status VmHWM (the peak resident set since the process started). Sampled at the start and the end of the
/// measured window; what happens in warmup is not counted.
/// </summary>
public static class ProcessCpuMeter
{
    private const int ScClkTck = 2; // sysconf name of _SC_CLK_TCK on Linux (glibc and musl)

    /// <summary>Clock ticks per second of /proc/PID/stat's times (100 on every common Linux build).</summary>
    public static long TicksPerSecond { get; } = ReadTicksPerSecond();

    /// <summary>The sample of process <paramref name="pid"/>, or null when it does not exist (or this is not Linux).</summary>
    public static ProcessCpuSample? Read(int pid)
    {
        string stat, status;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
            status = File.ReadAllText($"/proc/{pid}/status");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var ticks = ParseCpuTicks(stat);
        if (ticks is null) return null;
        return new ProcessCpuSample(pid, (double)ticks.Value / TicksPerSecond, ParsePeakRssBytes(status) ?? 0);
    }

    /// <summary>utime + stime of a /proc/PID/stat line. The command name (field 2) is in parentheses and may itself
    /// hold spaces and parentheses, so fields are counted from the last ')'.</summary>
    public static long? ParseCpuTicks(string statLine)
    {
        var close = statLine.LastIndexOf(')');
        if (close < 0) return null;
        var fields = statLine[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        if (fields.Length < 13) return null;
        if (!long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var utime)) return null;
        if (!long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var stime)) return null;
        return utime + stime;
    }

    /// <summary>VmHWM of a /proc/PID/status text, in bytes (the kernel writes it in kB).</summary>
    public static long? ParsePeakRssBytes(string status)
    {
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var parts = line["VmHWM:".Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb)) return kb * 1024;
        }
        return null;
    }

    private static long ReadTicksPerSecond()
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                var ticks = SysConf(ScClkTck);
                if (ticks > 0) return ticks;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Fall through to the value of every common Linux build.
        }
        return 100;
    }

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);
}

/// <summary>What the watched server processes spent over the measured window.</summary>
/// <param name="Processes">How many of the watched processes were readable at both ends of the window.</param>
/// <param name="CpuSeconds">User + system CPU seconds summed over them.</param>
/// <param name="CpuMsPerOp">CPU milliseconds per successful operation in the window (0 when none succeeded).</param>
/// <param name="PeakRssBytes">The sum of their peak resident sets (each process's VmHWM at the end).</param>
public sealed record ServerCpu(int Processes, double CpuSeconds, double CpuMsPerOp, long PeakRssBytes)
{
    /// <summary>The difference of two sets of samples, per completed operation.</summary>
    public static ServerCpu From(IReadOnlyList<ProcessCpuSample> start, IReadOnlyList<ProcessCpuSample?> end, long operations)
    {
        double seconds = 0;
        long peak = 0;
        var processes = 0;
        foreach (var before in start)
        {
            var after = end.FirstOrDefault(s => s?.Pid == before.Pid);
            if (after is null) continue; // exited during the window: its CPU is unknown, so it is not counted
            processes++;
            seconds += Math.Max(0, after.Value.CpuSeconds - before.CpuSeconds);
            peak += after.Value.PeakRssBytes;
        }
        return new ServerCpu(processes, seconds, operations > 0 ? seconds * 1000 / operations : 0, peak);
    }
}
