namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>A clock that moves only when told to (<see cref="Advance"/>), firing the timers it passes: the inner clock
/// under a <see cref="Flotilla.Server.Faults.SkewedTimeProvider"/> in its tests.</summary>
internal sealed class ManualTime : TimeProvider
{
    private readonly List<Timer> _timers = [];
    private long _now = 1_000_000;

    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp() * 10);

    public void Advance(TimeSpan by)
    {
        var end = GetTimestamp() + (long)(by.TotalSeconds * TimestampFrequency);
        while (true)
        {
            Timer? next;
            lock (_timers) next = _timers.Where(t => t.Due is { } d && d <= end).MinBy(t => t.Due);
            if (next is null) break;
            Interlocked.Exchange(ref _now, Math.Max(GetTimestamp(), next.Due!.Value));
            next.Fire();
        }
        Interlocked.Exchange(ref _now, end);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        lock (_timers) _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class Timer(ManualTime time, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period;

        public long? Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            Due = dueTime == Timeout.InfiniteTimeSpan ? null : time.GetTimestamp() + (long)(dueTime.TotalSeconds * time.TimestampFrequency);
            return true;
        }

        public void Fire()
        {
            Due = _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? Due + (long)(_period.TotalSeconds * time.TimestampFrequency) : null;
            callback(state);
        }

        public void Dispose()
        {
            Due = null;
            lock (time._timers) time._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
