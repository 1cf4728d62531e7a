using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>
/// K-way merge of runs that are each sorted by key (ordinal), as every map task's partition is: a reduce task
/// merges them in O(n log k) comparisons instead of re-sorting everything in O(n log n), and decodes records only as
/// it consumes them. Records with equal keys come out in run order (a run's own order kept), so the merge is stable.
/// </summary>
internal static class SortedRunMerger
{
    /// <exception cref="InvalidDataException">A run is not sorted by key (its records would be grouped wrongly).</exception>
    public static IEnumerable<KeyValue> Merge(IReadOnlyList<IEnumerable<KeyValue>> runs)
    {
        var cursors = new IEnumerator<KeyValue>[runs.Count];
        var heap = new PriorityQueue<int, (string Key, int Run)>(runs.Count, HeadOrder.Instance);
        try
        {
            for (var run = 0; run < runs.Count; run++)
            {
                cursors[run] = runs[run].GetEnumerator();
                if (cursors[run].MoveNext()) heap.Enqueue(run, (cursors[run].Current.Key, run));
            }
            while (heap.TryPeek(out var run, out _))
            {
                var cursor = cursors[run];
                var record = cursor.Current;
                yield return record;
                if (!cursor.MoveNext())
                {
                    heap.Dequeue();
                    continue;
                }
                var next = cursor.Current.Key;
                if (string.CompareOrdinal(next, record.Key) < 0)
                    throw new InvalidDataException($"sorted run {run} is out of order: '{next}' after '{record.Key}'");
                heap.DequeueEnqueue(run, (next, run));
            }
        }
        finally
        {
            foreach (var cursor in cursors) cursor?.Dispose();
        }
    }

    private sealed class HeadOrder : IComparer<(string Key, int Run)>
    {
        public static readonly HeadOrder Instance = new();

        public int Compare((string Key, int Run) x, (string Key, int Run) y)
        {
            var byKey = string.CompareOrdinal(x.Key, y.Key);
            return byKey != 0 ? byKey : x.Run.CompareTo(y.Run);
        }
    }
}
