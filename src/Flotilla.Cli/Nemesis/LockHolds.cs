namespace Flotilla.Cli.Nemesis;

/// <summary>One hold of the nemesis lock, on this process's clock (<see cref="TimeProvider.GetTimestamp"/> ticks): from
/// the moment <c>AcquireAsync</c> returned to the end of the holder's trust (its critical section's end, or the
/// lock's <c>ValidUntil</c> if that came first).</summary>
public readonly record struct LockHold(int Client, long From, long TrustedUntil, ulong FencingToken);

/// <summary>
/// The lock's safety property, checked on what the lock clients saw: no two holds by different clients overlap.
/// Every lock client runs in the nemesis process, so all holds are on one clock and the check needs no clock bound;
/// what it tests is the lock's claim that a holder's trust (Lease × SafetyFactor after its last write was sent) ends
/// before anyone else can take over, through partitions, pauses and crashes of the servers.
/// </summary>
public sealed class LockHolds
{
    private readonly Lock _lock = new();
    private readonly List<LockHold> _holds = [];

    public void Add(LockHold hold)
    {
        lock (_lock) _holds.Add(hold);
    }

    public int Count
    {
        get { lock (_lock) return _holds.Count; }
    }

    /// <summary>Overlapping pairs of holds by different clients, one line each (empty: mutual exclusion held).</summary>
    public IReadOnlyList<string> Violations(double ticksPerMs)
    {
        LockHold[] holds;
        lock (_lock) holds = _holds.OrderBy(h => h.From).ToArray();
        var found = new List<string>();
        for (var i = 0; i < holds.Length; i++)
        for (var j = i + 1; j < holds.Length && holds[j].From < holds[i].TrustedUntil; j++)
        {
            if (holds[j].Client == holds[i].Client) continue;
            found.Add($"lock client {holds[i].Client} (token {holds[i].FencingToken}) and client {holds[j].Client} (token {holds[j].FencingToken}) " +
                      $"both held the lock for {(holds[i].TrustedUntil - holds[j].From) / ticksPerMs:0.#} ms");
        }
        return found;
    }
}
