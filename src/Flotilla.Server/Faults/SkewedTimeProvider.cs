namespace Flotilla.Server.Faults;

/// <summary>
/// A clock for fault-injection runs (<c>flotilla nemesis --faults clock</c>): the inner clock, run at <see cref="Rate"/>
/// times its speed and moved forward by jumps. Timestamps and the UTC time follow the skewed clock, and timers fire by
/// it: a 100 ms timer on a clock running at 2× fires after 50 ms of real time, and a jump fires every timer it passes.
/// The clock never runs backwards (a monotonic clock cannot), so a jump is forward only and a heal sets the rate back
/// to 1 and keeps the time jumped. Made only when <see cref="RuntimeFaults"/> is enabled; a production server uses the
/// system clock directly.
/// </summary>
public sealed class SkewedTimeProvider(TimeProvider inner) : TimeProvider
{
    private readonly object _gate = new();
    private readonly HashSet<SkewedTimer> _armed = [];
    private volatile Anchor _anchor = new(inner.GetTimestamp(), inner.GetTimestamp(), 1.0);

    /// <summary>The skewed clock's timestamp when the inner one read <see cref="Real"/>, and its speed since.</summary>
    private sealed record Anchor(long Real, long Skewed, double Rate)
    {
        public long At(long real) => Skewed + (long)((real - Real) * Rate);
    }

    /// <summary>How fast the clock runs (1: like the inner clock).</summary>
    public double Rate => _anchor.Rate;

    /// <summary>How far ahead of the inner clock this one is now.</summary>
    public TimeSpan Ahead => Ticks(GetTimestamp() - inner.GetTimestamp());

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override long GetTimestamp() => _anchor.At(inner.GetTimestamp());

    public override DateTimeOffset GetUtcNow()
    {
        var real = inner.GetTimestamp();
        return inner.GetUtcNow() + Ticks(_anchor.At(real) - real);
    }

    /// <summary>From now on the clock runs at <paramref name="rate"/> (clamped to 0.05..20) after jumping
    /// <paramref name="jump"/> forward (a negative jump is ignored); every armed timer is rescheduled by the new clock.</summary>
    public void Set(double rate, TimeSpan jump)
    {
        rate = double.IsFinite(rate) ? Math.Clamp(rate, 0.05, 20) : 1;
        SkewedTimer[] armed;
        lock (_gate)
        {
            var real = inner.GetTimestamp();
            var skewed = _anchor.At(real) + (jump > TimeSpan.Zero ? (long)(jump.TotalSeconds * TimestampFrequency) : 0);
            _anchor = new Anchor(real, skewed, rate);
            armed = [.. _armed];
        }
        foreach (var timer in armed) timer.Rearm();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SkewedTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private TimeSpan Ticks(long timestampDelta) => TimeSpan.FromSeconds((double)timestampDelta / TimestampFrequency);

    private void Track(SkewedTimer timer, bool armed)
    {
        lock (_gate)
        {
            if (armed) _armed.Add(timer);
            else _armed.Remove(timer);
        }
    }

    /// <summary>A timer due at a time of the skewed clock; the inner timer is one-shot and re-armed for each firing and
    /// each change of the clock (periods are in skewed time too).</summary>
    private sealed class SkewedTimer : ITimer
    {
        private readonly SkewedTimeProvider _clock;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private readonly ITimer _inner;
        private readonly object _gate = new();
        private long? _due;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public SkewedTimer(SkewedTimeProvider clock, TimerCallback callback, object? state)
        {
            _clock = clock;
            _callback = callback;
            _state = state;
            _inner = clock.InnerTimer(_ => Fire());
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                if (_disposed) return false;
                _period = period;
                _due = dueTime == Timeout.InfiniteTimeSpan ? null : _clock.GetTimestamp() + Stamp(dueTime);
            }
            Rearm();
            return true;
        }

        /// <summary>Points the inner timer at the due time by the clock's current speed.</summary>
        public void Rearm()
        {
            lock (_gate)
            {
                if (_disposed) return;
                _clock.Track(this, _due is not null);
                if (_due is not { } due)
                {
                    _inner.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    return;
                }
                var left = Math.Max(0, due - _clock.GetTimestamp()) / _clock.Rate;
                _inner.Change(TimeSpan.FromSeconds(left / _clock.TimestampFrequency), Timeout.InfiniteTimeSpan);
            }
        }

        private void Fire()
        {
            bool early;
            lock (_gate)
            {
                if (_disposed || _due is not { } due) return;
                // Early by the inner timer's rounding, or the clock slowed since it was armed: wait for the rest.
                early = _clock.GetTimestamp() < due - _clock.TimestampFrequency / 1000;
                if (!early)
                    _due = _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? Math.Max(due + Stamp(_period), _clock.GetTimestamp()) : null;
            }
            Rearm();
            if (!early) _callback(_state);
        }

        private long Stamp(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);

        public void Dispose()
        {
            lock (_gate) _disposed = true;
            _clock.Track(this, false);
            _inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private ITimer InnerTimer(TimerCallback callback) => inner.CreateTimer(callback, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
}
