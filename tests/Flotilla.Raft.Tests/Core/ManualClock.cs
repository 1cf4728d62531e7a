namespace Flotilla.Raft.Tests.Core;

/// <summary>A monotonic clock the test moves by hand (the lease is measured on it, never on ticks).</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;
    public override long GetTimestamp() => _ticks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
