namespace Flotilla.Linearizability.Models;

/// <summary>
/// Turns a nondeterministic model into a deterministic one whose state is the set of states the object could be in
/// (the subset construction, as Porcupine's NondeterministicModel does). A step is legal when it is legal from at least
/// one of the possible states; the next set is the union of every outcome.
/// </summary>
public sealed class PowerSetModel<TState, TInput, TOutput>(INondeterministicModel<TState, TInput, TOutput> inner)
    : IModel<StateSet<TState>, TInput, TOutput> where TOutput : class
{
    private readonly IEqualityComparer<TState> _comparer = inner.StateComparer;

    public INondeterministicModel<TState, TInput, TOutput> Inner => inner;

    public StateSet<TState> Init() => new([inner.Init()], _comparer);

    public bool Step(StateSet<TState> state, TInput input, TOutput? output, out StateSet<TState> next)
    {
        List<TState>? union = null;
        foreach (var current in state.States)
        {
            foreach (var candidate in inner.Step(current, input, output))
            {
                union ??= new List<TState>(state.Count + 1);
                if (!StateSet<TState>.Contains(union, candidate, _comparer)) union.Add(candidate);
            }
        }
        if (union is null)
        {
            next = state;
            return false;
        }
        next = new StateSet<TState>([.. union], _comparer);
        return true;
    }

    public string? PartitionKey(TInput input) => inner.PartitionKey(input);

    /// <summary>Sound for sets: a read-only operation can only filter the set, and the set semantics are monotone.</summary>
    public bool IsReadOnly(TInput input, TOutput? output) => inner.IsReadOnly(input, output);

    public bool StateEquals(StateSet<TState> a, StateSet<TState> b) => a.SetEquals(b, _comparer);

    public int StateHash(StateSet<TState> state) => state.Hash;

    public string DescribeOperation(TInput input, TOutput? output) => inner.DescribeOperation(input, output);

    public string DescribeState(StateSet<TState> state) =>
        state.Count == 1 ? inner.DescribeState(state.States[0]) : "one of {" + string.Join(" | ", state.States.Select(inner.DescribeState)) + "}";
}
