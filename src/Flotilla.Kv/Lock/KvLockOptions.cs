namespace Flotilla.Kv.Lock;

public sealed record KvLockOptions
{
    /// <summary>
    /// How long a holder that stops renewing keeps others out. A waiter takes the lock over only after seeing the
    /// same lock version for this long on its own clock.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The holder trusts its lease for only this fraction of <see cref="Lease"/> from the moment it sent the write
    /// that took or renewed it. The gap covers clock-rate drift between machines (see docs/kv.md): 0.8 tolerates
    /// clocks that run up to ~10% apart in rate.
    /// </summary>
    public double SafetyFactor { get; init; } = 0.8;

    /// <summary>How often the holder renews (must be well below <see cref="Lease"/> × <see cref="SafetyFactor"/>).</summary>
    public TimeSpan RenewInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a waiter re-reads a lock held by someone else.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
