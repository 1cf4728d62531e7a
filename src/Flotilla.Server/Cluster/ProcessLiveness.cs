using System.Diagnostics;

namespace Flotilla.Server.Cluster;

/// <summary>Whether a process id (not necessarily our child) is running, and how to stop one we did not start.
/// Awaits do not capture the caller's context: <see cref="LocalCluster.Kill"/> waits on them synchronously.</summary>
public static class ProcessLiveness
{
    public static bool IsAlive(int pid)
    {
        if (pid <= 0) return false;
        // A killed process whose parent has not reaped it yet is a zombie: it still "exists" but is dead. Linux says so
        // in /proc/PID/stat (state Z or X after the command name); elsewhere ask the runtime.
        var stat = $"/proc/{pid}/stat";
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var text = File.ReadAllText(stat);
                var state = text[(text.LastIndexOf(')') + 1)..].TrimStart();
                return state.Length > 0 && state[0] is not ('Z' or 'X');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        }
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    /// <summary>kill -9 of <paramref name="pid"/> (if alive), then waits up to <paramref name="wait"/> for it to be gone.</summary>
    public static async Task<bool> KillAsync(int pid, TimeSpan wait)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        return await WaitExitAsync(pid, wait).ConfigureAwait(false);
    }

    /// <summary>True once <paramref name="pid"/> is gone; false if it still runs after <paramref name="wait"/>.</summary>
    public static async Task<bool> WaitExitAsync(int pid, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(50).ConfigureAwait(false);
        }
        return true;
    }
}
