using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Scheduling;
using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

/// <summary>The scheduling core under a manual clock: no sockets, no sleeps.</summary>
public sealed class JobSchedulerTests
{
    private static readonly TaskCounters One = new(1, 2, 3, 4);
    private readonly ManualTimeProvider _clock = new();

    private JobScheduler NewScheduler(int maps = 3, int reduces = 2, SchedulerOptions? options = null) =>
        new(Enumerable.Range(0, maps).Select(i => $"in-{i}.txt").ToArray(), reduces,
            options ?? new SchedulerOptions { TaskTimeout = TimeSpan.FromSeconds(10) }, _clock);

    [Fact]
    public void EachMapIsHandedOutOnceThenWorkersWaitUntilMapsFinish()
    {
        var scheduler = NewScheduler(maps: 3);
        var given = Enumerable.Range(0, 3).Select(i => Assert.IsType<Assignment.Map>(scheduler.NextAssignment($"w{i}"))).ToList();

        Assert.Equal(["in-0.txt", "in-1.txt", "in-2.txt"], given.Select(m => m.InputFile));
        Assert.Equal(3, given.Select(m => m.Attempt).Distinct().Count());
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("w3"));
    }

    [Fact]
    public void ReducesStartOnlyAfterEveryMapIsDone()
    {
        var scheduler = NewScheduler(maps: 2, reduces: 2);
        var m0 = (Assignment.Map)scheduler.NextAssignment("a");
        var m1 = (Assignment.Map)scheduler.NextAssignment("b");
        Assert.True(scheduler.CompleteMap(m0.Attempt, "http://a", One));
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("a"));

        Assert.True(scheduler.CompleteMap(m1.Attempt, "http://b", One));
        var reduce = Assert.IsType<Assignment.Reduce>(scheduler.NextAssignment("a"));
        Assert.Equal(0, reduce.Task);
        Assert.Equal(["http://a", "http://b"], reduce.MapLocations);
    }

    [Fact]
    public void TaskNotFinishedWithinTimeoutIsGivenToAnotherWorker()
    {
        var scheduler = NewScheduler(maps: 1);
        var first = (Assignment.Map)scheduler.NextAssignment("slow");
        _clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("other"));

        _clock.Advance(TimeSpan.FromSeconds(0.1));
        var second = Assert.IsType<Assignment.Map>(scheduler.NextAssignment("other"));
        Assert.Equal(first.Task, second.Task);
        Assert.NotEqual(first.Attempt, second.Attempt);
        Assert.Equal(1, scheduler.Counters.TimedOutAttempts);
    }

    [Fact]
    public void LateReportFromTimedOutAttemptWinsIfNoOtherAttemptFinishedFirst()
    {
        var scheduler = NewScheduler(maps: 1, reduces: 1);
        var first = (Assignment.Map)scheduler.NextAssignment("slow");
        _clock.Advance(TimeSpan.FromSeconds(11));
        var second = (Assignment.Map)scheduler.NextAssignment("fast");

        Assert.True(scheduler.CompleteMap(first.Attempt, "http://slow", One));
        Assert.False(scheduler.CompleteMap(second.Attempt, "http://fast", One));
        var reduce = Assert.IsType<Assignment.Reduce>(scheduler.NextAssignment("fast"));
        Assert.Equal(["http://slow"], reduce.MapLocations);
        Assert.Equal(1, scheduler.Counters.DuplicateCompletions);
        Assert.Equal(One, scheduler.Counters.Map); // the loser's work is not counted twice
    }

    [Fact]
    public void WorkersAreToldToExitOnlyWhenEveryReduceIsDone()
    {
        var scheduler = NewScheduler(maps: 1, reduces: 2);
        scheduler.CompleteMap(((Assignment.Map)scheduler.NextAssignment("a")).Attempt, "", One);
        var r0 = (Assignment.Reduce)scheduler.NextAssignment("a");
        var r1 = (Assignment.Reduce)scheduler.NextAssignment("b");
        Assert.True(scheduler.CompleteReduce(r0.Attempt, One));
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("a"));
        Assert.Equal(JobState.Running, scheduler.State);

        Assert.True(scheduler.CompleteReduce(r1.Attempt, One));
        Assert.Equal(JobState.Succeeded, scheduler.State);
        Assert.IsType<Assignment.Exit>(scheduler.NextAssignment("a"));
        Assert.Equal(new JobProgress(1, 1, 0, 2, 2, 0, JobState.Succeeded), scheduler.Progress());
    }

    [Fact]
    public void ReducerThatCannotFetchAMapOutputSendsThatMapBackToWork()
    {
        var scheduler = NewScheduler(maps: 2, reduces: 1);
        var m0 = (Assignment.Map)scheduler.NextAssignment("a");
        var m1 = (Assignment.Map)scheduler.NextAssignment("b");
        scheduler.CompleteMap(m0.Attempt, "http://a", One);
        scheduler.CompleteMap(m1.Attempt, "http://b", One);
        var reduce = (Assignment.Reduce)scheduler.NextAssignment("a");

        scheduler.Fail(reduce.Attempt, [1], "b is gone");

        var rerun = Assert.IsType<Assignment.Map>(scheduler.NextAssignment("a"));
        Assert.Equal(1, rerun.Task);
        Assert.Equal(1, scheduler.Counters.MapReexecutions);
        Assert.Equal(0, scheduler.Counters.FailedAttempts); // not the reducer's fault
        scheduler.CompleteMap(rerun.Attempt, "http://a", One);
        var again = Assert.IsType<Assignment.Reduce>(scheduler.NextAssignment("a"));
        Assert.Equal(["http://a", "http://a"], again.MapLocations);
    }

    [Fact]
    public void StaleFetchFailureDoesNotRerunAMapThatAlreadyMoved()
    {
        var scheduler = NewScheduler(maps: 1, reduces: 2);
        scheduler.CompleteMap(((Assignment.Map)scheduler.NextAssignment("a")).Attempt, "http://a", One);
        var r0 = (Assignment.Reduce)scheduler.NextAssignment("x");
        var r1 = (Assignment.Reduce)scheduler.NextAssignment("y");
        scheduler.Fail(r0.Attempt, [0], "a is gone");
        var rerun = (Assignment.Map)scheduler.NextAssignment("b");
        scheduler.CompleteMap(rerun.Attempt, "http://b", One);

        scheduler.Fail(r1.Attempt, [0], "a is gone"); // learned about the old location; the new one is fine

        Assert.IsType<Assignment.Reduce>(scheduler.NextAssignment("x"));
        Assert.Equal(1, scheduler.Counters.MapReexecutions);
    }

    [Fact]
    public void BackupCopyOfAStragglerRunsOnlyWhenEnabledAndNothingIsIdle()
    {
        var options = new SchedulerOptions { BackupTasks = true, BackupAfter = TimeSpan.FromSeconds(2), TaskTimeout = TimeSpan.FromSeconds(60) };
        var scheduler = NewScheduler(maps: 2, reduces: 1, options);
        var m0 = (Assignment.Map)scheduler.NextAssignment("a");
        var m1 = (Assignment.Map)scheduler.NextAssignment("b");
        scheduler.CompleteMap(m0.Attempt, "http://a", One);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("a")); // not a straggler yet

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("b")); // never a backup of your own attempt
        var backup = Assert.IsType<Assignment.Map>(scheduler.NextAssignment("a"));
        Assert.Equal(m1.Task, backup.Task);
        Assert.Equal(1, scheduler.Counters.BackupAttempts);
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("c")); // one backup per task

        Assert.True(scheduler.CompleteMap(backup.Attempt, "http://a", One));
        Assert.False(scheduler.CompleteMap(m1.Attempt, "http://b", One));
        Assert.IsType<Assignment.Reduce>(scheduler.NextAssignment("b"));
    }

    [Fact]
    public void WithoutBackupTasksAStragglerIsNeverDuplicatedBeforeItsTimeout()
    {
        var scheduler = NewScheduler(maps: 1, reduces: 1, new SchedulerOptions { TaskTimeout = TimeSpan.FromSeconds(10) });
        scheduler.NextAssignment("a");
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.IsType<Assignment.Wait>(scheduler.NextAssignment("b"));
        Assert.Equal(0, scheduler.Counters.BackupAttempts);
    }

    [Fact]
    public void JobFailsWhenATaskKeepsFailing()
    {
        var scheduler = NewScheduler(maps: 1, reduces: 1, new SchedulerOptions { FailedAttemptsMax = 2 });
        for (var i = 0; i < 3; i++)
        {
            var map = Assert.IsType<Assignment.Map>(scheduler.NextAssignment("a"));
            scheduler.Fail(map.Attempt, [], "boom");
        }
        Assert.Equal(JobState.Failed, scheduler.State);
        Assert.Contains("boom", scheduler.FailureReason);
        Assert.IsType<Assignment.Exit>(scheduler.NextAssignment("a"));
    }

    [Fact]
    public void CountersSumTheWinningAttemptsOfBothPhases()
    {
        var scheduler = NewScheduler(maps: 2, reduces: 1);
        scheduler.CompleteMap(((Assignment.Map)scheduler.NextAssignment("a")).Attempt, "", new TaskCounters(1, 10, 100, 50));
        scheduler.CompleteMap(((Assignment.Map)scheduler.NextAssignment("a")).Attempt, "", new TaskCounters(1, 20, 200, 70));
        scheduler.CompleteReduce(((Assignment.Reduce)scheduler.NextAssignment("a")).Attempt, new TaskCounters(30, 5, 120, 40));

        Assert.Equal(new TaskCounters(2, 30, 300, 120), scheduler.Counters.Map);
        Assert.Equal(new TaskCounters(30, 5, 120, 40), scheduler.Counters.Reduce);
        Assert.Equal(0, scheduler.Counters.Retries);
    }
}
