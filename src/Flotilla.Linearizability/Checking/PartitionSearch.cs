using Flotilla.Linearizability.Models;

namespace Flotilla.Linearizability.Checking;

/// <summary>
/// The Wing–Gong linearizability search with Lowe's memoization over the operations of one partition (the algorithm
/// Porcupine implements). The history is a time-ordered list of call and return entries; the search repeatedly picks a
/// call that is "minimal" (appears before the first remaining return), applies it to the model, and removes
/// ("lifts") the call and its return from the list. Reaching a return entry means that operation had to take effect
/// already and none of the candidates worked: backtrack (unlift the last choice) and try the next candidate.
/// </summary>
internal sealed class PartitionSearch<TState, TInput, TOutput> where TOutput : class
{
    private const int NoEntry = -1;
    private const int Head = 0;
    private const int LimitCheckInterval = 256;

    private readonly IModel<TState, TInput, TOutput> _model;
    private readonly IReadOnlyList<Operation<TInput, TOutput>> _history;
    private readonly int[] _ops; // local op id -> index in the history

    // The doubly linked entry list, in arrays. Node 0 is the head sentinel; node k > 0 is entry k - 1 in time order.
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly int[] _match; // call node -> its return node; NoEntry for return nodes
    private readonly int[] _opOf;  // node -> local op id

    private PartitionSearch(IModel<TState, TInput, TOutput> model, IReadOnlyList<Operation<TInput, TOutput>> history, int[] ops)
    {
        _model = model;
        _history = history;
        _ops = ops;
        var n = ops.Length;
        var entries = new (long Time, bool IsReturn, int Op)[2 * n];
        for (var i = 0; i < n; i++)
        {
            var op = history[ops[i]];
            entries[2 * i] = (op.CallTime, false, i);
            entries[2 * i + 1] = (op.EffectiveReturnTime, true, i);
        }
        // Equal times: calls first, so operations that touch at one instant count as concurrent (the permissive
        // reading; a clock too coarse to order two events must not manufacture a violation).
        Array.Sort(entries, (a, b) =>
            a.Time != b.Time ? a.Time.CompareTo(b.Time)
            : a.IsReturn != b.IsReturn ? (a.IsReturn ? 1 : -1)
            : a.Op.CompareTo(b.Op));

        _next = new int[2 * n + 1];
        _prev = new int[2 * n + 1];
        _match = new int[2 * n + 1];
        _opOf = new int[2 * n + 1];
        var returnNodeOf = new int[n];
        for (var k = 0; k < entries.Length; k++)
            if (entries[k].IsReturn) returnNodeOf[entries[k].Op] = k + 1;
        _opOf[Head] = NoEntry;
        _match[Head] = NoEntry;
        for (var node = 0; node <= entries.Length; node++)
        {
            _prev[node] = node - 1;
            _next[node] = node == entries.Length ? NoEntry : node + 1;
            if (node == Head) continue;
            var e = entries[node - 1];
            _opOf[node] = e.Op;
            _match[node] = e.IsReturn ? NoEntry : returnNodeOf[e.Op];
        }
    }

    public static PartitionResult Run(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        string? key,
        int[] ops,
        SearchLimits limits) =>
        new PartitionSearch<TState, TInput, TOutput>(model, history, ops).Search(key, limits);

    private PartitionResult Search(string? key, SearchLimits limits)
    {
        var linearized = new LinearizedSet(_ops.Length);
        var cache = new VisitedCache<TState, TInput, TOutput>(_model);
        var calls = new Stack<(int Node, TState StateBefore, bool Forced)>();
        var state = _model.Init();

        // The deepest dead end seen: what the report shows for a failing partition.
        var bestDepth = -1;
        int[] bestPrefix = [];
        var bestState = state;
        int[] bestStuck = [];
        var bestDeadline = NoEntry;

        var node = _next[Head];
        long iterations = 0;
        while (_next[Head] != NoEntry)
        {
            if (++iterations % LimitCheckInterval == 0)
            {
                var cause = limits.Check(cache.Count);
                if (cause != UnknownCause.None)
                    return Result(key, CheckOutcome.Unknown, bestPrefix, bestState, bestStuck, bestDeadline, cache.Count, cause);
            }

            var mustBacktrack = false;
            if (_match[node] != NoEntry)
            {
                var op = _opOf[node];
                var operation = _history[_ops[op]];
                if (!_model.Step(state, operation.Input, operation.EffectiveOutput, out var nextState))
                {
                    node = _next[node];
                    continue;
                }
                // A read-only operation that is legal now and leaves the state as it is can go first in some
                // linearization from here if any exists (it is minimal, so nothing must precede it; dropping it from
                // a later position only widens what follows). So it is not a choice: no alternatives are tried at
                // this level. Without this, every subset of concurrent reads is a distinct configuration, and hot keys
                // blow up.
                var forced = _model.IsReadOnly(operation.Input, operation.EffectiveOutput) && _model.StateEquals(nextState, state);
                if (cache.TryAdd(linearized, op, nextState))
                {
                    calls.Push((node, state, forced));
                    state = nextState;
                    linearized.Add(op);
                    Lift(node);
                    node = _next[Head];
                    continue;
                }
                // Seen before, hence a dead end. For a forced step that dooms this configuration too.
                if (!forced)
                {
                    node = _next[node];
                    continue;
                }
                mustBacktrack = true;
            }

            if (!mustBacktrack && calls.Count > bestDepth)
            {
                // A return entry: its operation had to take effect already, and no remaining candidate could.
                bestDepth = calls.Count;
                bestPrefix = CurrentOrder(calls);
                bestState = state;
                bestStuck = CandidatesBefore(node);
                bestDeadline = _opOf[node];
            }

            // Undo the last choice and try the candidate after it; forced steps were no choice, so undo through them.
            while (true)
            {
                if (calls.Count == 0)
                    return Result(key, CheckOutcome.Illegal, bestPrefix, bestState, bestStuck, bestDeadline, cache.Count);
                var (callNode, stateBefore, wasForced) = calls.Pop();
                state = stateBefore;
                linearized.Remove(_opOf[callNode]);
                Unlift(callNode);
                if (wasForced) continue;
                node = _next[callNode];
                break;
            }
        }
        return Result(key, CheckOutcome.Ok, CurrentOrder(calls), state, [], NoEntry, cache.Count);
    }

    private PartitionResult Result(string? key, CheckOutcome outcome, int[] prefix, TState state, int[] stuck, int deadline, long explored,
        UnknownCause cause = UnknownCause.None) =>
        new(key,
            outcome,
            _ops,
            prefix.Select(op => _ops[op]).ToArray(),
            _model.DescribeState(state),
            stuck.Select(op => _ops[op]).ToArray(),
            deadline == NoEntry ? null : _ops[deadline],
            explored,
            cause);

    private int[] CurrentOrder(Stack<(int Node, TState StateBefore, bool Forced)> calls)
    {
        // Stack enumerates from the top; the linearization order is bottom to top.
        var order = new int[calls.Count];
        var i = order.Length;
        foreach (var (node, _, _) in calls) order[--i] = _opOf[node];
        return order;
    }

    private int[] CandidatesBefore(int returnNode)
    {
        var candidates = new List<int>();
        for (var n = _next[Head]; n != returnNode && n != NoEntry; n = _next[n])
            if (_match[n] != NoEntry) candidates.Add(_opOf[n]);
        return [.. candidates];
    }

    /// <summary>Removes a call entry and its return entry from the list (the operation is now linearized).</summary>
    private void Lift(int call)
    {
        _next[_prev[call]] = _next[call];
        _prev[_next[call]] = _prev[call]; // a call always has its return after it, so _next[call] exists
        var ret = _match[call];
        _next[_prev[ret]] = _next[ret];
        if (_next[ret] != NoEntry) _prev[_next[ret]] = _prev[ret];
    }

    /// <summary>Undoes <see cref="Lift"/>; must be applied in reverse order of lifting.</summary>
    private void Unlift(int call)
    {
        var ret = _match[call];
        _next[_prev[ret]] = ret;
        if (_next[ret] != NoEntry) _prev[_next[ret]] = ret;
        _next[_prev[call]] = call;
        _prev[_next[call]] = call;
    }
}
