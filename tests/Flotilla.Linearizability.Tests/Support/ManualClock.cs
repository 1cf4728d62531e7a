namespace Flotilla.Linearizability.Tests.Support;

/// <summary>A clock that moves only when told to (1 tick = 1 ns), for exact timestamps in recorder tests.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => 1_000_000_000;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks * 100);
}
