using System.Collections.Concurrent;
using Flotilla.Linearizability.Models;

namespace Flotilla.Linearizability.Checking;

/// <summary>
/// Checks histories for linearizability against a model. The history is split by <see cref="IModel{TState,TInput,TOutput}.PartitionKey"/>
/// first (a history is linearizable iff each key's sub-history is: linearizability is compositional), and the
/// partitions are searched in parallel.
/// </summary>
public static class LinearizabilityChecker
{
    public static CheckResult Check<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        CheckOptions? options = null,
        CancellationToken cancellation = default) where TOutput : class
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(history);
        options ??= CheckOptions.Default;
        Validate(history);

        var started = options.TimeProvider.GetTimestamp();
        // The searches poll the clock themselves: a timer would need a free thread-pool thread to fire, and the
        // searches are what occupy the pool.
        var limits = new SearchLimits(options.TimeProvider, started, options.Timeout, Math.Max(1, options.MaxVisitedStatesPerPartition), cancellation);

        var partitions = Partition(model, history);
        var results = new ConcurrentDictionary<int, PartitionResult>();
        // Biggest partitions first so one long search does not start last.
        var order = Enumerable.Range(0, partitions.Count).OrderByDescending(i => partitions[i].Ops.Length).ToArray();
        Parallel.ForEach(
            order,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxParallelism) },
            i => results[i] = PartitionSearch<TState, TInput, TOutput>.Run(model, history, partitions[i].Key, partitions[i].Ops,
                limits));

        // The caller asked us to stop: that is not a verdict, so do not pretend it is one.
        cancellation.ThrowIfCancellationRequested();

        var ordered = Enumerable.Range(0, partitions.Count).Select(i => results[i]).ToArray();
        var outcome = CheckResult.Combine(ordered.Select(p => p.Outcome));
        return new CheckResult(outcome, ordered, options.TimeProvider.GetElapsedTime(started), options.Timeout);
    }

    private static List<(string? Key, int[] Ops)> Partition<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model, IReadOnlyList<Operation<TInput, TOutput>> history) where TOutput : class
    {
        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        List<int>? shared = null;
        var keys = new List<string?>();
        for (var i = 0; i < history.Count; i++)
        {
            var key = model.PartitionKey(history[i].Input);
            if (key is null)
            {
                if (shared is null) { shared = []; keys.Add(null); }
                shared.Add(i);
                continue;
            }
            if (!byKey.TryGetValue(key, out var list))
            {
                byKey[key] = list = [];
                keys.Add(key);
            }
            list.Add(i);
        }
        // Partitions in order of first appearance: stable, so reports and HTML pages do not reshuffle between runs.
        return keys.Select(k => (k, (k is null ? shared! : byKey[k]).ToArray())).ToList();
    }

    private static void Validate<TInput, TOutput>(IReadOnlyList<Operation<TInput, TOutput>> history) where TOutput : class
    {
        for (var i = 0; i < history.Count; i++)
        {
            var op = history[i] ?? throw new ArgumentException($"operation {i} is null", nameof(history));
            if (op.ReturnTime is { } ret && ret < op.CallTime)
                throw new ArgumentException($"operation {i} returns ({ret}) before it is called ({op.CallTime})", nameof(history));
        }
    }
}
