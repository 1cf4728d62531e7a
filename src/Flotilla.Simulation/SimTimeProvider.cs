namespace Flotilla.Simulation;

/// <summary>
/// Virtual time for one node incarnation (or for the test body). Timers are simulator events owned by that
/// incarnation, so <c>Task.Delay(t, time)</c>, <c>CancellationTokenSource(t, time)</c> and periodic timers all run in
/// virtual time, and a crashed node's timers never fire.
/// </summary>
internal sealed class SimTimeProvider(Simulator simulator, SimSynchronizationContext context) : TimeProvider
{
    public static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Epoch + simulator.Now;
    public override long GetTimestamp() => simulator.Now.Ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SimTimer(simulator, context, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class SimTimer(Simulator simulator, SimSynchronizationContext context, TimerCallback callback, object? state) : ITimer
    {
        private long _version;
        private bool _disposed;
        private TimeSpan _period;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed) return false;
            var version = ++_version;
            _period = period;
            if (dueTime == Timeout.InfiniteTimeSpan) return true;
            if (dueTime < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(dueTime));
            Arm(dueTime, version);
            return true;
        }

        private void Arm(TimeSpan due, long version) =>
            simulator.ScheduleFromContext(context, due, () => Fire(version), EventKind.Timer);

        private void Fire(long version)
        {
            if (_disposed || version != _version) return;
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan) Arm(_period, version);
            callback(state);
        }

        public void Dispose()
        {
            _disposed = true;
            _version++;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
