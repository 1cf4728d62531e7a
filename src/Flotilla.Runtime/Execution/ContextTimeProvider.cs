namespace Flotilla.Runtime.Execution;

/// <summary>
/// Wraps a real <see cref="TimeProvider"/> so that timer callbacks run on a node's
/// <see cref="SynchronizationContext"/> instead of a timer thread: protocol code never runs concurrently with itself.
/// </summary>
public sealed class ContextTimeProvider(TimeProvider inner, SynchronizationContext context) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();
    public override long GetTimestamp() => inner.GetTimestamp();
    public override long TimestampFrequency => inner.TimestampFrequency;
    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(s => context.Post(_ => callback(s), null), state, dueTime, period);
}
