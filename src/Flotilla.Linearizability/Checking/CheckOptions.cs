namespace Flotilla.Linearizability.Checking;

public sealed record CheckOptions
{
    /// <summary>Give up after this long and report <see cref="CheckOutcome.Unknown"/>; <c>null</c> = no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Memory bound: a partition whose search has memoized this many configurations gives up with
    /// <see cref="CheckOutcome.Unknown"/> (each costs roughly 100 bytes plus the model state: a few hundred bytes for small states, more for big state sets).</summary>
    public long MaxVisitedStatesPerPartition { get; init; } = 2_000_000;

    /// <summary>How many partitions are searched at once (each search is single-threaded).</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Clock for the timeout and the elapsed time (tests may pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public static CheckOptions Default { get; } = new();

    public static CheckOptions WithTimeout(TimeSpan timeout) => new() { Timeout = timeout };
}
