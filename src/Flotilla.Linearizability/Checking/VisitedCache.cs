using Flotilla.Linearizability.Models;

namespace Flotilla.Linearizability.Checking;

/// <summary>
/// Lowe's memoization: the configurations (set of linearized operations, model state) already explored. Reaching the
/// same configuration by another order cannot lead anywhere new, so the search prunes it. This is what turns the
/// exponential Wing–Gong search into something practical on real histories.
/// </summary>
internal sealed class VisitedCache<TState, TInput, TOutput>(IModel<TState, TInput, TOutput> model) where TOutput : class
{
    private readonly Dictionary<ulong, List<(ulong[] Words, TState State)>> _buckets = new();

    public long Count { get; private set; }

    /// <summary>Records (<paramref name="linearized"/> ∪ {<paramref name="op"/>}, <paramref name="state"/>); returns false
    /// if it was already there.</summary>
    public bool TryAdd(LinearizedSet linearized, int op, TState state)
    {
        var stateHash = (ulong)(uint)model.StateHash(state);
        var key = linearized.HashWith(op) ^ (stateHash * 0x9E3779B97F4A7C15UL);
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            bucket = new List<(ulong[], TState)>(1);
            _buckets[key] = bucket;
        }
        else
        {
            foreach (var (words, seen) in bucket)
                if (linearized.EqualsWith(words, op) && model.StateEquals(seen, state)) return false;
        }
        bucket.Add((linearized.SnapshotWith(op), state));
        Count++;
        return true;
    }
}
