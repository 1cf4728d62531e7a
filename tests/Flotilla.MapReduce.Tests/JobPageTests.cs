using Flotilla.MapReduce.Coordinator;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Scheduling;
using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

/// <summary>The coordinator's job page: rendered from the scheduler under a manual clock (stragglers, backup copies,
/// attempts, durations, the progress bar, the summary), and served over HTTP by a real coordinator during a job.</summary>
public sealed class JobPageTests
{
    private static readonly TaskCounters One = new(1, 2, 3, 4);

    [Fact]
    public void ThePageShowsTasksStragglersBackupsProgressAndTheSummary()
    {
        var clock = new ManualTimeProvider();
        var scheduler = new JobScheduler(["a.txt", "b.txt"], 1,
            new SchedulerOptions { BackupTasks = true, BackupAfter = TimeSpan.FromSeconds(2), TaskTimeout = TimeSpan.FromSeconds(60) }, clock);
        var m0 = (Assignment.Map)scheduler.NextAssignment("w1");
        var m1 = (Assignment.Map)scheduler.NextAssignment("w2");
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(scheduler.CompleteMap(m0.Attempt, "", One));
        clock.Advance(TimeSpan.FromSeconds(2));
        var straggling = Render(scheduler);
        Assert.Contains("<tr data-task=\"map-1\"><th scope=\"row\">map 1</th><td>Running</td><td>w2</td><td class=\"num\">1</td><td class=\"num\">3.0 s</td><td><span class=\"pill warn\">straggler</span>", straggling);
        Assert.Contains("<tr data-task=\"map-0\"><th scope=\"row\">map 0</th><td>Done</td><td>w1</td><td class=\"num\">1</td><td class=\"num\">1.0 s</td>", straggling);
        Assert.Contains("<progress id=\"progress\" max=\"3\" value=\"1\">", straggling);
        Assert.Contains("http-equiv=\"refresh\"", straggling);
        Assert.DoesNotContain("a.txt", straggling); // task indexes, not input paths

        var backup = Assert.IsType<Assignment.Map>(scheduler.NextAssignment("w3"));
        Assert.Equal(1, backup.Task);
        var racing = Render(scheduler);
        Assert.Contains("<td>w2, w3</td><td class=\"num\">2</td>", racing);
        Assert.Contains("backup copy running", racing);

        Assert.True(scheduler.CompleteMap(backup.Attempt, "", One));
        var reduce = (Assignment.Reduce)scheduler.NextAssignment("w1");
        Assert.True(scheduler.CompleteReduce(reduce.Attempt, One));
        var finished = Render(scheduler);
        Assert.Contains("<p class=\"banner ok\" role=\"status\">Succeeded in", finished);
        Assert.Contains("<progress id=\"progress\" max=\"3\" value=\"3\">", finished);
        Assert.Contains("<tr><th scope=\"row\">Backup attempts</th><td class=\"num\">1</td></tr>", finished);
        Assert.DoesNotContain("http-equiv=\"refresh\"", finished);
    }

    [Fact]
    public async Task ARunningCoordinatorServesThePageOverHttp()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mr-page-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var inputs = Enumerable.Range(0, 3).Select(i => Path.Combine(dir, $"in-{i}.txt")).ToArray();
        foreach (var input in inputs) await File.WriteAllTextAsync(input, "a b c\n");
        try
        {
            await using var coordinator = await MapReduceCoordinator.StartAsync(new CoordinatorOptions { InputFiles = inputs, ReduceCount = 2, PagePort = 0 });
            Assert.NotNull(coordinator.PageAddress);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var page = await http.GetStringAsync(coordinator.PageAddress + "/");
            Assert.Contains("<caption>Tasks</caption>", page);
            Assert.Equal(5, page.Split("<tr data-task=").Length - 1);
            Assert.Contains("Running for", page);
            Assert.DoesNotContain(dir, page);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Render(JobScheduler scheduler) =>
        JobPage.Render((scheduler.Progress(), scheduler.Tasks(), scheduler.Counters with { }, scheduler.FailureReason), TimeSpan.FromSeconds(3));
}
