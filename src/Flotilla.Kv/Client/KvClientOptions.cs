namespace Flotilla.Kv.Client;

public sealed record KvClientOptions
{
    /// <summary>Start each get at a random member instead of the last one that answered (for a group serving follower
    /// reads, <c>--reads follower</c>: spreads reads over every member). Puts still go to the leader.</summary>
    public bool ReadFromAnyMember { get; init; }

    /// <summary>How long one attempt at one endpoint may take before the client tries again.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Give up and report <see cref="KvStatus.Unavailable"/> after this long; null = retry until answered
    /// (the "retries a lost request until it gets an answer").</summary>
    public TimeSpan? OperationTimeout { get; init; }

    /// <summary>Pause after a full round of endpoints went unanswered; doubles per round up to <see cref="BackoffMax"/>.</summary>
    public TimeSpan BackoffMin { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromMilliseconds(500);
}
