using Flotilla.MapReduce.Core;

namespace Flotilla.MapReduce.Scheduling;

/// <summary>Per-job counters for the final summary. Work counters come only from attempts that won.</summary>
public sealed record JobCounters
{
    public TaskCounters Map { get; set; }
    public TaskCounters Reduce { get; set; }
    public int TimedOutAttempts { get; set; }
    public int FailedAttempts { get; set; }
    public int BackupAttempts { get; set; }
    /// <summary>Completed map tasks run again because reducers could not fetch their output.</summary>
    public int MapReexecutions { get; set; }
    /// <summary>Reports from attempts whose task had already been completed by another attempt.</summary>
    public int DuplicateCompletions { get; set; }

    public int Retries => TimedOutAttempts + FailedAttempts;
}
