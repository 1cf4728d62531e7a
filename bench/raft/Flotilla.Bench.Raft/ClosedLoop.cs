using System.Diagnostics;

namespace Flotilla.Bench.Raft;

/// <summary>C closed-loop workers (one operation in flight each, no think time) for warmup + a measured window; an
/// operation counts if it started inside the window. Shared by the Flotilla and DotNext halves so both are measured
/// the same way.</summary>
public static class ClosedLoop
{
    public static async Task<LatencyStats> RunAsync(string label, int workers, TimeSpan warmup, TimeSpan window,
        Func<int, Task<bool>> operation, CancellationToken ct = default)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureTo = measureFrom + (long)(window.TotalSeconds * Stopwatch.Frequency);
        var samples = new List<long>[workers];
        var failed = new long[workers];
        async Task Worker(int w)
        {
            var mine = samples[w] = new List<long>(4096);
            long t0;
            while ((t0 = Stopwatch.GetTimestamp()) < measureTo && !ct.IsCancellationRequested)
            {
                var ok = await operation(w);
                if (t0 < measureFrom) continue;
                if (ok) mine.Add(Stopwatch.GetTimestamp() - t0);
                else failed[w]++;
            }
        }
        await Task.WhenAll(Enumerable.Range(0, workers).Select(Worker));
        return LatencyStats.From(label, workers, samples.SelectMany(s => s).ToList(), failed.Sum(), window.TotalSeconds);
    }
}
