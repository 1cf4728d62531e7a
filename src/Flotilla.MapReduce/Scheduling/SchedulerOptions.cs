namespace Flotilla.MapReduce.Scheduling;

public sealed record SchedulerOptions
{
    /// <summary>An attempt not finished after this long is presumed dead and its task given to another worker.</summary>
    public TimeSpan TaskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Launch backup copies of straggling tasks at the end of a phase (MapReduce paper §3.6).</summary>
    public bool BackupTasks { get; init; }

    /// <summary>A task becomes a straggler worth a backup copy once its attempt has run this long.</summary>
    public TimeSpan BackupAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed attempts (reported errors, not timeouts) a task may have before the job gives up.</summary>
    public int FailedAttemptsMax { get; init; } = 10;

    /// <summary>Timed-out attempts a task may have before the job gives up (a task that kills every worker).</summary>
    public int TimedOutAttemptsMax { get; init; } = 50;
}
