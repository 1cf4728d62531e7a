namespace Flotilla.MapReduce.Scheduling;

public enum JobState { Running, Succeeded, Failed }

/// <summary>A snapshot for progress bars and tests.</summary>
public readonly record struct JobProgress(int MapsTotal, int MapsDone, int MapsRunning, int ReducesTotal, int ReducesDone, int ReducesRunning, JobState State);

/// <summary>One task for the coordinator's job page: its state (Idle, Running, Done), the workers running it now, how
/// many attempts it has had, how long since its first attempt started (until done), whether its only attempt is a
/// straggler (older than the backup threshold) and whether a backup copy runs beside it, and who completed it.</summary>
internal sealed record TaskView(string Kind, int Index, string State, IReadOnlyList<string> Workers, int Attempts, TimeSpan? Duration,
    bool Straggler, bool BackupRunning, string? CompletedBy);
