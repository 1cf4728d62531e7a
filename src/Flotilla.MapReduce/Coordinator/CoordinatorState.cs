using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Scheduling;

namespace Flotilla.MapReduce.Coordinator;

/// <summary>The scheduler plus who has been told to exit, behind one lock (the gRPC edge is multi-threaded;
/// the scheduler is not).</summary>
internal sealed class CoordinatorState(JobScheduler scheduler, CoordinatorOptions options, TimeProvider time)
{
    /// <summary>A worker silent for this long is not waited for at the end of the job, unless it holds a task (it is
    /// expected back with its report; the end-of-job wait is bounded by <see cref="CoordinatorOptions.ExitGrace"/>).</summary>
    private static readonly TimeSpan WorkerSilenceMax = TimeSpan.FromSeconds(3);
    private readonly object _gate = new();
    private readonly Dictionary<string, (DateTimeOffset LastSeen, bool ToldExit, bool Busy)> _workers = [];

    public CoordinatorOptions Options { get; } = options;

    public Assignment NextAssignment(string workerId)
    {
        lock (_gate)
        {
            var assignment = scheduler.NextAssignment(workerId);
            _workers[workerId] = (time.GetUtcNow(), assignment is Assignment.Exit, assignment is Assignment.Map or Assignment.Reduce);
            return assignment;
        }
    }

    /// <summary>A report is a sign of life too: a worker that just finished a long task (and so asked for none for a
    /// while) is about to ask again and must be told to exit, not left to find the coordinator gone.</summary>
    public void Seen(string workerId)
    {
        lock (_gate)
        {
            if (workerId.Length > 0) _workers[workerId] = (time.GetUtcNow(), _workers.TryGetValue(workerId, out var w) && w.ToldExit, false);
        }
    }

    public bool CompleteMap(long attempt, string location, TaskCounters counters)
    {
        lock (_gate) return scheduler.CompleteMap(attempt, location, counters);
    }

    public bool CompleteReduce(long attempt, TaskCounters counters)
    {
        lock (_gate) return scheduler.CompleteReduce(attempt, counters);
    }

    public void Fail(long attempt, IReadOnlyCollection<int> unreachableMaps, string reason)
    {
        lock (_gate) scheduler.Fail(attempt, unreachableMaps, reason);
    }

    public JobProgress Progress()
    {
        lock (_gate) return scheduler.Progress();
    }

    /// <summary>What the job page shows, under the one lock.</summary>
    public (JobProgress Progress, IReadOnlyList<TaskView> Tasks, JobCounters Counters, string? FailureReason) View()
    {
        lock (_gate) return (scheduler.Progress(), scheduler.Tasks(), scheduler.Counters with { }, scheduler.FailureReason);
    }

    public (JobState State, string? FailureReason, JobCounters Counters) Outcome()
    {
        lock (_gate) return (scheduler.State, scheduler.FailureReason, scheduler.Counters with { });
    }

    /// <summary>True when every recently active worker, and every worker still running a task (a backup copy of a
    /// straggler that lost the race, say), has been told to exit: such a worker coming back to a vanished coordinator
    /// would take it for a crash and exit 3.</summary>
    public bool AllActiveWorkersToldToExit()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            return _workers.Values.All(w => w.ToldExit || (!w.Busy && now - w.LastSeen > WorkerSilenceMax));
        }
    }
}
