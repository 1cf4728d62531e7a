namespace Flotilla.MapReduce.Scheduling;

public enum JobState { Running, Succeeded, Failed }

/// <summary>A snapshot for progress bars and tests.</summary>
public readonly record struct JobProgress(int MapsTotal, int MapsDone, int MapsRunning, int ReducesTotal, int ReducesDone, int ReducesRunning, JobState State);
