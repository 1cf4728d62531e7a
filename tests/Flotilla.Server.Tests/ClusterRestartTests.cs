using System.Diagnostics;
using System.Text.Json;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;
using Flotilla.Server.Tests.Support;

namespace Flotilla.Server.Tests;

/// <summary><c>flotilla cluster restart</c> against a real <c>flotilla cluster start</c>: the member comes back as a
/// new process, cluster.json and <c>cluster status</c> show it, it serves, and <c>cluster start</c> supervises it —
/// neither exiting while it runs nor missing its death.</summary>
public sealed class ClusterRestartTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"flotilla-restart-{Guid.NewGuid():N}");

    [Fact]
    public async Task ARestartedMemberGetsANewPidKeepsServingAndStaysSupervisedByClusterStart()
    {
        var clusterFile = Path.Combine(_dir, "cluster.json");
        using var start = CliProcess.Start("cluster", "start", "--nodes", "3", "--dir", _dir);
        Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(start.Out.Contains("Press Ctrl-C") || start.HasExited), Timeout),
            $"cluster start did not come up: {start.Out} {start.Err}");
        Assert.False(start.HasExited, start.Err);
        var before = ClusterFile.Load(clusterFile);
        Assert.Equal(start.Id, before.SupervisorPid);
        var oldPid = before.Members.Single(m => m.Id == 2).Pid;

        using (var restart = await CliProcess.RunAsync(Timeout, "cluster", "restart", "2", "--cluster", clusterFile))
            Assert.True(restart.ExitCode == ExitCodes.Ok, restart.Err);
        var after = ClusterFile.Load(clusterFile);
        var newPid = after.Members.Single(m => m.Id == 2).Pid;
        Assert.NotEqual(oldPid, newPid);
        Assert.False(ProcessLiveness.IsAlive(oldPid), "the old process of member 2 still runs");
        Assert.True(ProcessLiveness.IsAlive(newPid));
        Assert.Equal(before.Members.Single(m => m.Id == 2).Command, after.Members.Single(m => m.Id == 2).Command);

        // cluster status reports the new process, and it serves: a put through the cluster commits and n2 applies it.
        using (var status = await CliProcess.RunAsync(Timeout, "cluster", "status", "--cluster", clusterFile, "--json"))
        {
            Assert.True(status.ExitCode == ExitCodes.Ok, status.Err);
            var n2 = JsonDocument.Parse(status.Out).RootElement.EnumerateArray().Single(m => m.GetProperty("id").GetInt32() == 2);
            Assert.Equal(newPid, n2.GetProperty("pid").GetInt32());
        }
        using (var put = await CliProcess.RunAsync(Timeout, "kv", "put", "after-restart", "v", "--version", "0", "--cluster", clusterFile, "--timeout", "20s"))
            Assert.True(put.ExitCode == ExitCodes.Ok, put.Err);
        // Admin is on each member's own admin port, behind the cluster's token (docs/security.md).
        var token = Flotilla.Transport.Grpc.SecretFile.ReadText(Path.Combine(_dir, after.AdminTokenFile!));
        using (var admin = new AdminClient(new Uri(after.Members.Single(m => m.Id == 2).AdminAddress!), token))
        {
            ulong leaderCommit = 0;
            foreach (var m in after.Members)
            {
                using var other = new AdminClient(new Uri(m.AdminAddress!), token);
                if (await other.TryStatusAsync(TimeSpan.FromSeconds(5)) is { Role: "Leader" } s) leaderCommit = s.CommitIndex;
            }
            Assert.True(leaderCommit > 0, "no leader after the put");
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
                await admin.TryStatusAsync(TimeSpan.FromSeconds(2)) is { } s && s.Pid == newPid && s.AppliedIndex >= leaderCommit, TimeSpan.FromSeconds(30)),
                "the restarted member does not apply what the cluster commits");
        }

        // Every process cluster start launched is now dead (n2's by the restart, n1's and n3's here), yet it
        // supervises on: the restarted member runs. It exits once that one dies too.
        foreach (var m in after.Members.Where(m => m.Id != 2)) await KillAsync(m.Pid);
        Assert.False(await ClusterFixture.EventuallyAsync(() => Task.FromResult(start.HasExited), TimeSpan.FromSeconds(3)),
            $"cluster start exited while a restarted member still ran: {start.Out}");
        Assert.True(ProcessLiveness.IsAlive(newPid), "the restarted member stopped with the others");
        await KillAsync(newPid);
        Assert.Equal(ExitCodes.Ok, await start.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("Every member has exited", start.Out);
    }

    [Fact]
    public async Task RestartingAnUnknownMemberIsAUsageErrorAndAnOldClusterFileWithoutKindStillReads()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "cluster.json");
        // A cluster.json as older flotillas wrote it: no kind, no supervisor, no command lines.
        await File.WriteAllTextAsync(path, """{"endpoints": ["http://127.0.0.1:1"], "members": [{"id": 1, "address": "http://127.0.0.1:1", "pid": 0}]}""");
        Assert.Equal(ClusterKinds.ReplicatedKv, ClusterFile.Load(path).Kind);
        using var unknown = await CliProcess.RunAsync(Timeout, "cluster", "restart", "7", "--cluster", path);
        Assert.Equal(ExitCodes.Usage, unknown.ExitCode);
        Assert.Contains("no member 7", Assert.Single(unknown.ErrLines));
        using var old = await CliProcess.RunAsync(Timeout, "cluster", "restart", "1", "--cluster", path);
        Assert.Equal(ExitCodes.Failure, old.ExitCode);
        Assert.Contains("records no command line", Assert.Single(old.ErrLines));
    }

    private static async Task KillAsync(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
        }
        catch (ArgumentException) { }
        Assert.True(await ProcessLiveness.WaitExitAsync(pid, TimeSpan.FromSeconds(10)), $"pid {pid} did not die");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
