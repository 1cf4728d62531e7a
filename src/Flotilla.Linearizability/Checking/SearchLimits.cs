namespace Flotilla.Linearizability.Checking;

/// <summary>When a partition search must stop without a verdict; polled every few hundred steps.</summary>
internal sealed class SearchLimits(TimeProvider time, long startedTimestamp, TimeSpan? timeout, long visitedStatesMax, CancellationToken cancellation)
{
    public UnknownCause Check(long visitedStates)
    {
        if (cancellation.IsCancellationRequested) return UnknownCause.TimedOut;
        if (timeout is { } limit && time.GetElapsedTime(startedTimestamp) >= limit) return UnknownCause.TimedOut;
        return visitedStates >= visitedStatesMax ? UnknownCause.StateLimit : UnknownCause.None;
    }
}
