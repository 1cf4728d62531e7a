using System.Diagnostics;
using System.Globalization;

namespace Flotilla.MapReduce.Apps.Testing;

/// <summary>
/// Counts how many worker processes are inside the same phase right now (6.5840 mtiming.go / rtiming.go):
/// each announces itself with a file "mr-worker-PHASE-PID" in the current directory, counts the live
/// processes that did the same, stays for a second so overlaps are seen, then removes its file.
/// </summary>
internal static class ParallelismProbe
{
    public static int CountParallel(string phase)
    {
        var directory = Environment.CurrentDirectory;
        var prefix = $"mr-worker-{phase}-";
        var mine = Path.Combine(directory, prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(mine, "x");
        var running = 0;
        foreach (var path in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(path).AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && IsAlive(pid))
                running++;
        }
        Thread.Sleep(1000);
        File.Delete(mine);
        return running;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    public static string Now()
    {
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        return seconds.ToString("F1", CultureInfo.InvariantCulture);
    }
}
