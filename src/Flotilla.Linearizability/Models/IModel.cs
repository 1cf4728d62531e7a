namespace Flotilla.Linearizability.Models;

/// <summary>
/// A sequential specification of an object, as the checker needs it. The checker searches for an order of the
/// history's operations that respects real time and that this model accepts step by step.
/// </summary>
/// <typeparam name="TState">The object's state. Treated as immutable: <see cref="Step"/> must not mutate its input.</typeparam>
/// <typeparam name="TInput">What a client asked for (operation and arguments).</typeparam>
/// <typeparam name="TOutput">What the client got back. <c>null</c> means "unknown": the operation never returned
/// (client crashed or timed out), so the model must accept every outcome the operation could have had.</typeparam>
public interface IModel<TState, TInput, TOutput> where TOutput : class
{
    /// <summary>The state before any operation.</summary>
    TState Init();

    /// <summary>Applies one operation to <paramref name="state"/>. Returns false when the operation could not have
    /// produced <paramref name="output"/> in that state; otherwise returns true and the state after it.</summary>
    bool Step(TState state, TInput input, TOutput? output, out TState next);

    /// <summary>The independent part of the object the operation touches (a key). Operations with different keys are
    /// checked separately, which is what makes checking large histories cheap; <c>null</c> puts the operation in one
    /// shared partition (use that for models whose operations span keys).</summary>
    string? PartitionKey(TInput input);

    /// <summary>A promise that this operation, whenever it is legal, leaves the state unchanged (a read; a write that
    /// reported it did nothing). The checker then never treats its position as a choice, which keeps histories with
    /// many concurrent reads cheap. Returning false is always safe.</summary>
    bool IsReadOnly(TInput input, TOutput? output);

    bool StateEquals(TState a, TState b);

    int StateHash(TState state);

    /// <summary>A short human-readable rendering of an operation, e.g. <c>put("k", "x", v2) → ErrMaybe</c>.</summary>
    string DescribeOperation(TInput input, TOutput? output);

    string DescribeState(TState state);
}
