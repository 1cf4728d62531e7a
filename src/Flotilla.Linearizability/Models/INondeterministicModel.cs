namespace Flotilla.Linearizability.Models;

/// <summary>
/// A specification in which one operation may lead to several states (an operation whose outcome the client does not
/// know: "maybe applied"). Wrap it in <see cref="PowerSetModel{TState,TInput,TOutput}"/> to check it: the checker then
/// tracks the set of states the object could be in, which keeps the search deterministic and memoizable.
/// </summary>
public interface INondeterministicModel<TState, TInput, TOutput> where TOutput : class
{
    TState Init();

    /// <summary>Every state the operation could have led to from <paramref name="state"/> while producing
    /// <paramref name="output"/> (<c>null</c> = unknown output). Empty means the operation is impossible here.</summary>
    IEnumerable<TState> Step(TState state, TInput input, TOutput? output);

    string? PartitionKey(TInput input);

    /// <summary>A promise that, whenever legal, the operation's only outcome is the state it started from (see
    /// <see cref="IModel{TState,TInput,TOutput}.IsReadOnly"/>). Returning false is always safe.</summary>
    bool IsReadOnly(TInput input, TOutput? output);

    /// <summary>Compares states; must agree with <see cref="object.GetHashCode"/> of <typeparamref name="TState"/>
    /// via <see cref="EqualityComparer{T}.Default"/> (use records or record structs).</summary>
    IEqualityComparer<TState> StateComparer { get; }

    string DescribeOperation(TInput input, TOutput? output);

    string DescribeState(TState state);
}
