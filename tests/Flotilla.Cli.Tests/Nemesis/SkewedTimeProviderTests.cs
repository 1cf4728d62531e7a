using Flotilla.Server.Faults;

namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>The clock fault hook: a skewed clock scales elapsed time and timers by its rate, jumps forward only, and
/// reschedules armed timers when it changes. Driven by a manual inner clock, so nothing here depends on real time.</summary>
public class SkewedTimeProviderTests
{
    private static TimeSpan Elapsed(TimeProvider clock, long since) => clock.GetElapsedTime(since);

    [Fact]
    public void AtItsStartItIsTheInnerClock()
    {
        var inner = new ManualTime();
        var clock = new SkewedTimeProvider(inner);
        var start = clock.GetTimestamp();
        inner.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), Elapsed(clock, start));
        Assert.Equal(inner.GetUtcNow(), clock.GetUtcNow());
        Assert.Equal(TimeSpan.Zero, clock.Ahead);
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(0.5)]
    [InlineData(4.0)]
    public void ARateScalesElapsedTimeAndTheTimersFireByTheSkewedClock(double rate)
    {
        var inner = new ManualTime();
        var clock = new SkewedTimeProvider(inner);
        clock.Set(rate, TimeSpan.Zero);
        var start = clock.GetTimestamp();
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        var real = TimeSpan.FromSeconds(1 / rate);
        inner.Advance(real * 0.9);
        Assert.Equal(0, fired);
        Assert.Equal(0.9, Elapsed(clock, start).TotalSeconds, 3);
        inner.Advance(real * 0.1);
        Assert.Equal(1, fired);
        Assert.Equal(1.0, Elapsed(clock, start).TotalSeconds, 3);
        // The wall clock runs at the same speed.
        Assert.Equal(1.0 - 1 / rate, (clock.GetUtcNow() - inner.GetUtcNow()).TotalSeconds, 3);
    }

    [Fact]
    public void AChangeOfRateReschedulesAnArmedTimerAndKeepsTheClockContinuous()
    {
        var inner = new ManualTime();
        var clock = new SkewedTimeProvider(inner);
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        inner.Advance(TimeSpan.FromSeconds(0.5));
        var before = clock.GetTimestamp();
        clock.Set(0.25, TimeSpan.Zero);
        Assert.Equal(before, clock.GetTimestamp());
        // The half second left on the skewed clock takes 2 s at a quarter speed.
        inner.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(0, fired);
        inner.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void AJumpFiresTheTimersItPassesAndTheClockNeverGoesBack()
    {
        var inner = new ManualTime();
        var clock = new SkewedTimeProvider(inner);
        var passed = 0;
        var later = 0;
        using var soon = clock.CreateTimer(_ => passed++, null, TimeSpan.FromSeconds(1.5), Timeout.InfiniteTimeSpan);
        using var late = clock.CreateTimer(_ => later++, null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        clock.Set(1, TimeSpan.FromSeconds(2));
        inner.Advance(TimeSpan.Zero);
        Assert.Equal(1, passed);
        Assert.Equal(0, later);
        Assert.Equal(TimeSpan.FromSeconds(2), clock.Ahead);
        Assert.Equal(TimeSpan.FromSeconds(2), clock.GetUtcNow() - inner.GetUtcNow());
        // 3 s left on the late timer after the jump.
        inner.Advance(TimeSpan.FromSeconds(2.9));
        Assert.Equal(0, later);
        inner.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(1, later);
        var now = clock.GetTimestamp();
        clock.Set(1, TimeSpan.FromSeconds(-10));
        Assert.True(clock.GetTimestamp() >= now);
        Assert.Equal(TimeSpan.FromSeconds(2), clock.Ahead);
    }

    [Fact]
    public void APeriodicTimerKeepsItsPeriodInSkewedTime()
    {
        var inner = new ManualTime();
        var clock = new SkewedTimeProvider(inner);
        clock.Set(4, TimeSpan.Zero);
        var fired = 0;
        using var timer = clock.CreateTimer(_ => fired++, null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        inner.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(4, fired);
        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        inner.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(4, fired);
    }
}
