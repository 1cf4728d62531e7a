namespace Flotilla.Kv.Replicated.Testing;

/// <summary>
/// A deliberate bug a simulated cluster can run with, to show that a scenario's checks catch it (a mutation check).
/// Test-only: <see cref="ReplicatedKvCluster"/> is the only way to turn one on; production servers never have one.
/// </summary>
public enum ReplicatedKvMutation
{
    None,

    /// <summary>Every replica, follower or deposed leader alike, answers a get from its own local state at once,
    /// without ReadIndex: a read can miss writes that completed before it began (a stale read).</summary>
    LocalReadsWithoutReadIndex,

    /// <summary>Lease reads whose lease is measured in ticks instead of on the monotonic clock: a leader paused (no
    /// ticks) while time runs resumes believing its lease holds and serves reads a newer leader's writes made stale.
    /// Turns lease reads on.</summary>
    TickBasedLease,
}
