namespace Flotilla.MapReduce.Scheduling;

/// <summary>The coordinator's answer to a worker asking for work.</summary>
internal abstract record Assignment
{
    private Assignment() { }

    /// <summary>Nothing to do right now (tasks are running elsewhere); ask again soon.</summary>
    public sealed record Wait : Assignment;

    /// <summary>The job is over: exit.</summary>
    public sealed record Exit : Assignment;

    public sealed record Map(int Task, long Attempt, string InputFile) : Assignment;

    /// <summary>A reduce task with, per map task, the shuffle address holding its output ("" = shared directory).</summary>
    public sealed record Reduce(int Task, long Attempt, IReadOnlyList<string> MapLocations) : Assignment;

    public static readonly Wait WaitNow = new();
    public static readonly Exit ExitNow = new();
}
