using Flotilla.MapReduce.Apps.Testing;
using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

/// <summary>test-mr's early-exit and crash scenarios.</summary>
[Collection(ProcessTests.Collection)]
public sealed class FaultToleranceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ProcessScope _processes = new();

    [Fact]
    public async Task NoProcessExitsWhileTheOutputCanStillChange()
    {
        var books = TestData.Books;
        var (coordinator, address) = await _processes.StartCoordinatorAsync(_dir.Path, ["--reduce", "10"], books);
        var all = new List<FlotillaProcess> { coordinator };
        all.AddRange(Enumerable.Range(0, 3).Select(_ => _processes.StartWorker(_dir.Path, "early_exit", address)));

        await Wait.UntilAsync(() => all.Any(p => p.HasExited), LocalJob.JobTimeout, "the first process to exit");
        var atFirstExit = Outputs.SortedLines(_dir.Path);
        foreach (var process in all) Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        Outputs.AssertSame(Outputs.SortedLines(_dir.Path), atFirstExit);
        Outputs.AssertSame(Outputs.Reference(new EarlyExitApp(), books), atFirstExit);
    }

    [Fact]
    public async Task WorkersThatCrashOrHangAndAreRestartedStillYieldTheReferenceOutput()
    {
        var books = TestData.Books;
        var environment = new Dictionary<string, string> { [CrashApp.DelayEnvironmentVariable] = "3000" };
        // Shared-directory shuffle, as in test-mr: with a crash on a third of all tasks, RPC shuffle would also lose
        // every map output of each dead worker (re-execution of lost map output is covered by JobSchedulerTests).
        var (coordinator, address) = await _processes.StartCoordinatorAsync(_dir.Path,
            ["--reduce", "5", "--task-timeout-ms", "2000", "--shuffle", "shared"], books);
        var workers = Enumerable.Range(0, 3).Select(_ => _processes.StartWorker(_dir.Path, "crash", address, environment: environment)).ToArray();
        var restarts = 0;

        // Like test-mr: keep three workers alive until the coordinator is done.
        await Wait.UntilAsync(() =>
        {
            if (coordinator.HasExited) return true;
            for (var i = 0; i < workers.Length; i++)
            {
                if (!workers[i].HasExited) continue;
                workers[i] = _processes.StartWorker(_dir.Path, "crash", address, environment: environment);
                restarts++;
            }
            return false;
        }, TimeSpan.FromSeconds(150), "the crash job to finish");

        Assert.True(coordinator.ExitCode == 0, coordinator.StandardOutput + coordinator.StandardError);
        Outputs.AssertSame(Outputs.Reference(new NoCrashApp(), books), Outputs.SortedLines(_dir.Path));
        Assert.True(restarts > 0, "the crash app never crashed a worker; the scenario tested nothing");
        Assert.Contains("timed out", coordinator.StandardOutput);
    }

    [Fact]
    public async Task BackupCopyOfAStragglingReduceRunsAndTheOutputStaysExact()
    {
        // early_exit's reduce of the Sherlock Holmes key takes 3 s; everything else is instant, so the idle worker
        // must be given a backup copy of that straggler (paper §3.6). No Tom Sawyer: one straggler only.
        var books = TestData.Books.Where(b => !b.Contains("tom", StringComparison.Ordinal)).Take(4)
            .Append(TestData.Books.Single(b => b.Contains("sherlock", StringComparison.Ordinal))).Distinct().ToList();
        var (coordinator, address) = await _processes.StartCoordinatorAsync(_dir.Path,
            ["--reduce", "4", "--backup-tasks", "--backup-after-ms", "500"], books);
        var workers = Enumerable.Range(0, 2).Select(_ => _processes.StartWorker(_dir.Path, "early_exit", address)).ToList();

        Assert.Equal(0, await coordinator.WaitForExitAsync(LocalJob.JobTimeout));
        foreach (var worker in workers) Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Outputs.AssertSame(Outputs.Reference(new EarlyExitApp(), books), Outputs.SortedLines(_dir.Path));
        var backups = System.Text.RegularExpressions.Regex.Match(coordinator.StandardOutput, @"backup attempts (\d+)");
        Assert.True(backups.Success, coordinator.StandardOutput);
        Assert.True(int.Parse(backups.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1,
            $"no backup of the straggler was launched: {coordinator.StandardOutput}");
    }

    public void Dispose()
    {
        _processes.Dispose();
        _dir.Dispose();
    }
}
