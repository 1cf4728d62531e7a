namespace Flotilla.Linearizability.Models;

/// <summary>Base class with the usual defaults (one partition, <see cref="EqualityComparer{T}.Default"/> for states,
/// <c>ToString()</c> descriptions) so a model only has to say what its operations do.</summary>
public abstract class Model<TState, TInput, TOutput> : IModel<TState, TInput, TOutput> where TOutput : class
{
    public abstract TState Init();

    public abstract bool Step(TState state, TInput input, TOutput? output, out TState next);

    public virtual string? PartitionKey(TInput input) => null;

    public virtual bool IsReadOnly(TInput input, TOutput? output) => false;

    public virtual bool StateEquals(TState a, TState b) => EqualityComparer<TState>.Default.Equals(a, b);

    public virtual int StateHash(TState state) => state is null ? 0 : EqualityComparer<TState>.Default.GetHashCode(state);

    public virtual string DescribeOperation(TInput input, TOutput? output) => $"{input} → {(output is null ? "?" : output.ToString())}";

    public virtual string DescribeState(TState state) => state?.ToString() ?? "null";
}
