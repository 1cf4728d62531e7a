using System.Diagnostics;

namespace Flotilla.Server.Cluster;

/// <summary>
/// <c>flotilla cluster restart ID</c>: stops one member of a local cluster (cleanly if it answers, else kill -9),
/// relaunches it with the command line cluster.json records for it, and records the new process id there, where
/// <c>flotilla cluster start</c> (<see cref="LocalCluster"/>) follows it. The new process keeps its
/// <c>--parent-pid</c>, so it still stops with the cluster's supervisor.
/// </summary>
public static class MemberRestart
{
    /// <summary>Returns the member as now recorded. Throws <see cref="ClusterFileException"/> for a bad file,
    /// <see cref="ArgumentException"/> for an unknown member and <see cref="InvalidOperationException"/> when it cannot
    /// be restarted (no supervisor, no recorded command line, the new process died or did not answer in time).</summary>
    public static async Task<ClusterMember> RestartAsync(string clusterFilePath, int id, TimeSpan readyTimeout, CancellationToken cancellationToken = default)
    {
        ClusterFile.Load(clusterFilePath);
        // From reading the member's entry to recording its new pid: a membership command must not rewrite the file in
        // between (it would write back the old pid, or lose its own change under ours). Waiting for it to answer is not.
        ClusterMember updated;
        Process process;
        string? token;
        using (await ClusterFileLock.AcquireAsync(clusterFilePath, LockTimeout, cancellationToken))
            (updated, process, token) = await RelaunchAsync(clusterFilePath, id);
        await WaitReadyAsync(updated, process, token, readyTimeout, cancellationToken);
        return updated;
    }

    /// <summary>How long a restart waits for another cluster command to let go of cluster.json's lock.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private static async Task<(ClusterMember Updated, Process Process, string? Token)> RelaunchAsync(string clusterFilePath, int id)
    {
        var file = ClusterFile.Load(clusterFilePath);
        var member = file.Members.FirstOrDefault(m => m.Id == id)
            ?? throw new ArgumentException($"{clusterFilePath} has no member {id} (members: {string.Join(", ", file.Members.Select(m => m.Id))})");
        if (member.Command is not { Count: > 0 } command)
            throw new InvalidOperationException($"{clusterFilePath} records no command line for member {id} (an older cluster file); restart the whole cluster");
        if (file.SupervisorPid > 0 && !ProcessLiveness.IsAlive(file.SupervisorPid))
            throw new InvalidOperationException($"the cluster's supervisor (pid {file.SupervisorPid}, 'flotilla cluster start') is not running, and its members stop with it; start the cluster again");

        var token = AdminToken(file, clusterFilePath);
        await StopAsync(member, command[0], token);
        var process = LaunchDetached(command, member.LogFile);
        var updated = member with { Pid = process.Id };
        (file with { Members = file.Members.Select(m => m.Id == id ? updated : m).ToList() }).Save(clusterFilePath);
        return (updated, process, token);
    }

    /// <summary>Asks the member to stop, then kill -9 if it is still there. Only a process the member's address
    /// names (its Admin status) or the recorded pid running the same executable is touched: a pid can be reused.</summary>
    internal static async Task StopAsync(ClusterMember member, string executable, string? token)
    {
        using var admin = Admin(member, token);
        var status = await admin.TryStatusAsync(TimeSpan.FromSeconds(2));
        var pid = status?.Pid ?? (IsRunning(member.Pid, executable) ? member.Pid : 0);
        if (pid <= 0 || !ProcessLiveness.IsAlive(pid)) return;
        // A member that does not answer (hung, stopped) gets no grace period: it would not act on a shutdown anyway.
        var asked = status is not null && await admin.TryShutdownAsync(TimeSpan.FromSeconds(2));
        if (!(asked && await ProcessLiveness.WaitExitAsync(pid, TimeSpan.FromSeconds(10))) && !await ProcessLiveness.KillAsync(pid, TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException($"member {member.Id} (pid {pid}) did not exit");
    }

    /// <summary>The member's Admin service: its own admin port (older files: the client port) with the cluster's token.</summary>
    private static AdminClient Admin(ClusterMember member, string? token) => new(new Uri(member.AdminAddress ?? member.Address), token);

    /// <summary>The admin token from the file cluster.json names (relative to its directory); null when it names none.</summary>
    internal static string? AdminToken(ClusterFile file, string clusterFilePath) => file.AdminTokenFile is { } name
        ? Flotilla.Transport.Grpc.SecretFile.ReadText(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(clusterFilePath))!, name))
        : null;

    private static bool IsRunning(int pid, string executable)
    {
        if (!ProcessLiveness.IsAlive(pid)) return false;
        try
        {
            using var p = Process.GetProcessById(pid);
            return string.Equals(p.ProcessName, Path.GetFileNameWithoutExtension(executable), StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    /// <summary>Starts the member so that it outlives this command: output appended to its log by the shell
    /// (<c>exec</c>, so the pid is the member's own), not piped to a process that is about to exit.</summary>
    internal static Process LaunchDetached(IReadOnlyList<string> command, string? logFile)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" </dev/null >>\"$0\" 2>&1");
        start.ArgumentList.Add(logFile ?? "/dev/null");
        foreach (var a in command) start.ArgumentList.Add(a);
        return Process.Start(start) ?? throw new InvalidOperationException($"cannot start {command[0]}");
    }

    internal static async Task WaitReadyAsync(ClusterMember member, Process process, string? token, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var admin = Admin(member, token);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"member {member.Id} exited with code {process.ExitCode} on restart: {LocalCluster.LastError(member.LogFile)} (log: {member.LogFile})");
            if (await admin.TryStatusAsync(TimeSpan.FromSeconds(1), cancellationToken) is { } status && status.Pid == process.Id) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"member {member.Id} did not answer within {timeout.TotalSeconds:0} s after restart; see {member.LogFile}");
            await Task.Delay(100, cancellationToken);
        }
    }
}
