namespace Flotilla.Linearizability.Checking;

/// <summary>
/// One client operation of a history: invoked at <see cref="CallTime"/>, completed at <see cref="ReturnTime"/>.
/// Times are in any monotonic unit shared by the whole history (the JSON format uses nanoseconds).
/// </summary>
/// <param name="ClientId">Who issued it; used for display only (the checker relies on the times).</param>
/// <param name="Output">What the client got back; <c>null</c> = unknown (the model must accept every outcome).</param>
/// <param name="ReturnTime"><c>null</c> = never returned (crashed or timed out with an unknown outcome): the
/// operation may take effect at any point after its call, or not at all if the model allows that.</param>
public sealed record Operation<TInput, TOutput>(int ClientId, TInput Input, long CallTime, TOutput? Output, long? ReturnTime)
    where TOutput : class
{
    public bool IsPending => ReturnTime is null;

    /// <summary>The output the model sees: a pending operation's output is unknown whatever was recorded.</summary>
    internal TOutput? EffectiveOutput => ReturnTime is null ? null : Output;

    /// <summary>Return time with "never returned" as +infinity: it is concurrent with everything after its call.</summary>
    internal long EffectiveReturnTime => ReturnTime ?? long.MaxValue;
}
