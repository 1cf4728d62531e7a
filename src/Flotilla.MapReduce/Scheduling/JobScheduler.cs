using Flotilla.MapReduce.Core;

namespace Flotilla.MapReduce.Scheduling;

/// <summary>
/// The coordinator's brain: task states, attempts, timeouts, re-execution and backup tasks. Deterministic and
/// free of I/O: time comes from a <see cref="TimeProvider"/> and everything happens in explicit calls, so it is
/// tested with a manual clock. Not thread-safe: the gRPC edge serializes calls.
/// <para>Rules: one map task per input file; reduces start once every map is done; an attempt that has not
/// reported within <see cref="SchedulerOptions.TaskTimeout"/> is presumed dead and its task becomes idle again
/// (a late report from it is still accepted if no other attempt finished first — the output is the same);
/// the first completion wins and later ones are ignored; a reducer that cannot fetch a map's output sends
/// that map task back to idle.</para>
/// </summary>
internal sealed class JobScheduler
{
    private readonly SchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly TaskSlot[] _maps;
    private readonly TaskSlot[] _reduces;
    private readonly Dictionary<long, Attempt> _attempts = [];
    private long _nextAttempt = 1;

    public JobScheduler(IReadOnlyList<string> inputFiles, int reduceCount, SchedulerOptions options, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfZero(inputFiles.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(reduceCount, 1);
        _options = options;
        _time = time;
        _maps = inputFiles.Select((file, i) => new TaskSlot(TaskKind.Map, i, file)).ToArray();
        _reduces = Enumerable.Range(0, reduceCount).Select(r => new TaskSlot(TaskKind.Reduce, r, null)).ToArray();
    }

    public int MapCount => _maps.Length;
    public int ReduceCount => _reduces.Length;
    public JobState State { get; private set; } = JobState.Running;
    public string? FailureReason { get; private set; }
    public JobCounters Counters { get; } = new();

    /// <summary>Hands <paramref name="workerId"/> its next piece of work.</summary>
    public Assignment NextAssignment(string workerId)
    {
        ExpireTimedOutAttempts();
        if (State != JobState.Running) return Assignment.ExitNow;

        var phase = _maps.All(m => m.State == SlotState.Done) ? _reduces : _maps;
        var idle = phase.FirstOrDefault(t => t.State == SlotState.Idle);
        if (idle is not null) return Start(idle, workerId, backup: false);

        var straggler = _options.BackupTasks ? FindStraggler(phase, workerId) : null;
        return straggler is not null ? Start(straggler, workerId, backup: true) : Assignment.WaitNow;
    }

    /// <summary>A map attempt finished; its output is at <paramref name="location"/> ("" = shared directory).</summary>
    public bool CompleteMap(long attemptId, string location, TaskCounters counters) => Complete(attemptId, TaskKind.Map, counters, location);

    public bool CompleteReduce(long attemptId, TaskCounters counters) => Complete(attemptId, TaskKind.Reduce, counters, null);

    /// <summary>
    /// An attempt failed. For a reduce attempt, <paramref name="unreachableMaps"/> lists map tasks whose output it
    /// could not fetch: if their location is still the one the reducer was given, they run again.
    /// </summary>
    public void Fail(long attemptId, IReadOnlyCollection<int> unreachableMaps, string reason)
    {
        ExpireTimedOutAttempts();
        if (!_attempts.Remove(attemptId, out var attempt)) return;
        var slot = attempt.Slot;
        slot.Running.Remove(attempt);
        var blamedMaps = false;
        foreach (var m in unreachableMaps)
        {
            if (m < 0 || m >= _maps.Length || attempt.MapLocations is null) continue;
            var map = _maps[m];
            if (map.State == SlotState.Done && map.Location == attempt.MapLocations[m])
            {
                map.State = map.Running.Count > 0 ? SlotState.Running : SlotState.Idle;
                map.Location = null;
                Counters.MapReexecutions++;
                blamedMaps = true;
            }
        }
        // A reducer that could not fetch is not at fault; only count failures of its own making.
        if (!blamedMaps && unreachableMaps.Count == 0)
        {
            Counters.FailedAttempts++;
            if (++slot.FailedAttempts > _options.FailedAttemptsMax)
                GiveUp($"{slot} failed {slot.FailedAttempts} times; last error: {reason}");
        }
        if (slot.State == SlotState.Running && slot.Running.Count == 0) slot.State = SlotState.Idle;
    }

    public JobProgress Progress()
    {
        ExpireTimedOutAttempts();
        return new JobProgress(
            _maps.Length, _maps.Count(t => t.State == SlotState.Done), _maps.Count(t => t.State == SlotState.Running),
            _reduces.Length, _reduces.Count(t => t.State == SlotState.Done), _reduces.Count(t => t.State == SlotState.Running),
            State);
    }

    /// <summary>Every task as the job page shows it (<see cref="TaskView"/>), maps first.</summary>
    public IReadOnlyList<TaskView> Tasks()
    {
        ExpireTimedOutAttempts();
        var now = _time.GetUtcNow();
        return _maps.Concat(_reduces).Select(t => new TaskView(
            t.Kind == TaskKind.Map ? "map" : "reduce", t.Index, t.State.ToString(),
            t.Running.Select(a => a.WorkerId).ToList(), t.Attempts,
            t.FirstStartedAt is { } first ? (t.CompletedAt ?? now) - first : null,
            t.State == SlotState.Running && t.Running.Count == 1 && now - t.Running[0].StartedAt >= _options.BackupAfter,
            t.Running.Count > 1, t.CompletedBy)).ToList();
    }

    private Assignment Start(TaskSlot slot, string workerId, bool backup)
    {
        slot.Attempts++;
        slot.FirstStartedAt ??= _time.GetUtcNow();
        slot.CompletedAt = null;
        var attempt = new Attempt(_nextAttempt++, slot, workerId, _time.GetUtcNow(),
            slot.Kind == TaskKind.Reduce ? _maps.Select(m => m.Location ?? "").ToArray() : null);
        _attempts.Add(attempt.Id, attempt);
        slot.Running.Add(attempt);
        slot.State = SlotState.Running;
        if (backup) Counters.BackupAttempts++;
        return slot.Kind == TaskKind.Map
            ? new Assignment.Map(slot.Index, attempt.Id, slot.InputFile!)
            : new Assignment.Reduce(slot.Index, attempt.Id, attempt.MapLocations!);
    }

    /// <summary>The longest-running task of the phase that has a single attempt, by another worker, older than
    /// <see cref="SchedulerOptions.BackupAfter"/>. Only reached when the phase has no idle task left.</summary>
    private TaskSlot? FindStraggler(TaskSlot[] phase, string workerId)
    {
        var now = _time.GetUtcNow();
        return phase
            .Where(t => t.State == SlotState.Running && t.Running.Count == 1 && t.Running[0].WorkerId != workerId
                        && now - t.Running[0].StartedAt >= _options.BackupAfter)
            .OrderBy(t => t.Running[0].StartedAt)
            .ThenBy(t => t.Index)
            .FirstOrDefault();
    }

    private bool Complete(long attemptId, TaskKind kind, TaskCounters counters, string? location)
    {
        ExpireTimedOutAttempts();
        if (!_attempts.Remove(attemptId, out var attempt) || attempt.Slot.Kind != kind) return false;
        var slot = attempt.Slot;
        slot.Running.Remove(attempt);
        if (slot.State == SlotState.Done || State != JobState.Running)
        {
            Counters.DuplicateCompletions++;
            return false;
        }
        // A timed-out attempt that reports before its replacement finishes still wins: its output is as good.
        slot.State = SlotState.Done;
        slot.Location = location;
        slot.CompletedAt = _time.GetUtcNow();
        slot.CompletedBy = attempt.WorkerId;
        if (kind == TaskKind.Map) Counters.Map += counters;
        else Counters.Reduce += counters;
        if (_reduces.All(r => r.State == SlotState.Done)) State = JobState.Succeeded;
        return true;
    }

    private void ExpireTimedOutAttempts()
    {
        var now = _time.GetUtcNow();
        foreach (var slot in _maps.Concat(_reduces))
        {
            if (slot.State != SlotState.Running) continue;
            foreach (var attempt in slot.Running.Where(a => now - a.StartedAt >= _options.TaskTimeout).ToList())
            {
                // Keep it in _attempts: a late report is still welcome. It just no longer counts as running.
                slot.Running.Remove(attempt);
                Counters.TimedOutAttempts++;
                if (++slot.TimedOutAttempts > _options.TimedOutAttemptsMax)
                    GiveUp($"{slot} timed out {slot.TimedOutAttempts} times");
            }
            if (slot.Running.Count == 0) slot.State = SlotState.Idle;
        }
    }

    private void GiveUp(string reason)
    {
        if (State != JobState.Running) return;
        State = JobState.Failed;
        FailureReason = reason;
    }

    private enum TaskKind { Map, Reduce }

    private enum SlotState { Idle, Running, Done }

    private sealed class TaskSlot(TaskKind kind, int index, string? inputFile)
    {
        public TaskKind Kind { get; } = kind;
        public int Index { get; } = index;
        public string? InputFile { get; } = inputFile;
        public SlotState State { get; set; }
        public List<Attempt> Running { get; } = [];
        public string? Location { get; set; }
        public int FailedAttempts { get; set; }
        public int TimedOutAttempts { get; set; }
        public int Attempts { get; set; }
        public DateTimeOffset? FirstStartedAt { get; set; }
        public DateTimeOffset? CompletedAt { get; set; }
        public string? CompletedBy { get; set; }
        public override string ToString() => Kind == TaskKind.Map ? $"map task {Index} ({InputFile})" : $"reduce task {Index}";
    }

    private sealed class Attempt(long id, TaskSlot slot, string workerId, DateTimeOffset startedAt, string[]? mapLocations)
    {
        public long Id { get; } = id;
        public TaskSlot Slot { get; } = slot;
        public string WorkerId { get; } = workerId;
        public DateTimeOffset StartedAt { get; } = startedAt;
        public string[]? MapLocations { get; } = mapLocations;
    }
}
