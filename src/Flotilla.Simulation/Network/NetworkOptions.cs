namespace Flotilla.Simulation.Network;

/// <summary>
/// The simulated network's hostility. The unreliable defaults follow the MIT 6.5840 RPC library: each request and
/// each reply dropped with 10% probability, delays up to 27 ms; optionally long delays (a failed call takes up to
/// 7 s to report, as a real timeout would) and long reordering (replies held back 200 ms to 2.2 s).
/// </summary>
public sealed record NetworkOptions
{
    public bool Reliable { get; init; } = true;

    /// <summary>Probability that a request, a reply or a one-way message is dropped when unreliable.</summary>
    public double DropRate { get; init; } = 0.1;

    /// <summary>Delivery delay is uniform in [0, this] on a reliable network.</summary>
    public TimeSpan ReliableDelayMax { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Delivery delay is uniform in [0, this] on an unreliable network.</summary>
    public TimeSpan UnreliableDelayMax { get; init; } = TimeSpan.FromMilliseconds(27);

    /// <summary>A call to an unreachable node reports failure after up to <see cref="LongDelayMax"/> instead of up to 100 ms.</summary>
    public bool LongDelays { get; init; }

    public TimeSpan LongDelayMax { get; init; } = TimeSpan.FromSeconds(7);

    /// <summary>Replies and messages are sometimes held back for 200 ms to 2.2 s, so they arrive long after later ones.</summary>
    public bool LongReordering { get; init; }

    public double LongReorderingProbability { get; init; } = 600.0 / 900.0;
}
