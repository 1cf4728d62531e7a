using Flotilla.Runtime;

namespace Flotilla.Server.Faults;

/// <summary>
/// Added latency per destination for fault-injection runs (<c>flotilla nemesis --faults latency</c>): what this node
/// sends to node N waits N's delay, plus or minus up to its jitter. Empty (no delay) unless <see cref="RuntimeFaults"/>
/// sets it; replaced as a whole, so a reader sees one consistent table.
/// </summary>
public sealed class LinkDelays
{
    private volatile IReadOnlyDictionary<int, Delay> _table = new Dictionary<int, Delay>();

    public readonly record struct Delay(int Milliseconds, int JitterMilliseconds);

    public IReadOnlyDictionary<int, Delay> Table => _table;

    public void Set(IReadOnlyDictionary<int, Delay> table) => _table = new Dictionary<int, Delay>(table);

    /// <summary>How long the next message to <paramref name="target"/> waits (zero when its link is not slowed).</summary>
    public TimeSpan Next(NodeId target)
    {
        if (!_table.TryGetValue(target.Value, out var delay) || delay.Milliseconds + delay.JitterMilliseconds <= 0) return TimeSpan.Zero;
        // Random.Shared: an I/O-edge fault for real processes only; nothing replays it.
        var jitter = delay.JitterMilliseconds > 0 ? Random.Shared.Next(-delay.JitterMilliseconds, delay.JitterMilliseconds + 1) : 0;
        return TimeSpan.FromMilliseconds(Math.Max(0, delay.Milliseconds + jitter));
    }
}
