using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Kv.Replicated.Testing;

/// <summary>How much a history gives the checker to decide: operations of different clients on the same key that
/// overlap in time, at least one of them a put (two overlapping gets, or operations on different keys, can be
/// ordered any way and never make a history illegal).</summary>
public readonly record struct HistoryContention(long OverlappingPairs, int ContendedKeys)
{
    public static HistoryContention Measure(IReadOnlyList<Operation<KvInput, KvOutput>> history)
    {
        long pairs = 0;
        var keys = 0;
        foreach (var byKey in history.GroupBy(o => o.Input.Key))
        {
            long keyPairs = 0;
            // Sweep by call time, keeping the operations still running (a pending one runs forever).
            var running = new List<Operation<KvInput, KvOutput>>();
            foreach (var op in byKey.OrderBy(o => o.CallTime))
            {
                running.RemoveAll(r => (r.ReturnTime ?? long.MaxValue) <= op.CallTime);
                foreach (var r in running)
                    if (r.ClientId != op.ClientId && (r.Input.Op == KvOp.Put || op.Input.Op == KvOp.Put)) keyPairs++;
                running.Add(op);
            }
            pairs += keyPairs;
            if (keyPairs > 0) keys++;
        }
        return new HistoryContention(pairs, keys);
    }
}
