using System.Diagnostics;

namespace Flotilla.Bench.Transport;

/// <summary>One scenario's result: operations per second and, for request/response, latency percentiles.</summary>
internal sealed record Measurement(string Transport, string Scenario, int PayloadBytes, int Callers, double OpsPerSecond, double? P50Us, double? P99Us)
{
    public override string ToString() =>
        $"| {Transport} | {Scenario} | {PayloadBytes} B | {Callers} | {OpsPerSecond,10:N0} | {Format(P50Us)} | {Format(P99Us)} |";

    private static string Format(double? us) => us is null ? "-" : $"{us:N0}";

    /// <summary>Runs <paramref name="callers"/> loops of <paramref name="call"/> for a warm-up, then for
    /// <paramref name="duration"/>, recording each call's latency.</summary>
    public static async Task<Measurement> RequestResponseAsync(string transport, int payloadBytes, int callers, TimeSpan warmup, TimeSpan duration,
        Func<int, Func<Task>> callFor, string scenario = "call")
    {
        var latencies = new List<long>[callers];
        var measuring = false;
        using var stop = new CancellationTokenSource();
        var loops = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var call = callFor(c);
            var mine = latencies[c] = new List<long>(1 << 16);
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                await call();
                if (Volatile.Read(ref measuring)) mine.Add(Stopwatch.GetTimestamp() - start);
            }
        })).ToArray();
        await Task.Delay(warmup);
        Volatile.Write(ref measuring, true);
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        Volatile.Write(ref measuring, false);
        var elapsed = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all[(int)Math.Min(all.Length - 1, p * all.Length)] * 1e6 / Stopwatch.Frequency;
        return new Measurement(transport, scenario, payloadBytes, callers, all.Length / elapsed.TotalSeconds, Percentile(0.50), Percentile(0.99));
    }

    /// <summary>Sends one-way messages as fast as <paramref name="send"/> allows while keeping at most
    /// <paramref name="inFlightMax"/> unreceived, so the sender's bounded queue never drops; measures receipts/s.</summary>
    public static async Task<Measurement> OneWayAsync(string transport, int payloadBytes, TimeSpan warmup, TimeSpan duration,
        Action send, Func<long> received, int inFlightMax)
    {
        using var stop = new CancellationTokenSource();
        long sent = 0;
        var baseline = received();
        var sender = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (sent - (received() - baseline) >= inFlightMax)
                {
                    // Sleep rather than spin: on 2 cores a spinning sender would steal the receiver's CPU.
                    await Task.Delay(1);
                    continue;
                }
                send();
                sent++;
            }
        });
        await Task.Delay(warmup);
        var before = received();
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        var count = received() - before;
        var elapsed = clock.Elapsed;
        await stop.CancelAsync();
        await sender;
        // Let the tail arrive so the next scenario starts from a quiet receiver.
        var drain = Stopwatch.StartNew();
        while (received() - baseline < sent && drain.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);
        if (received() - baseline < sent) Console.WriteLine($"WARNING: {transport} one-way lost {sent - (received() - baseline)} of {sent} messages");
        return new Measurement(transport, "one-way", payloadBytes, 1, count / elapsed.TotalSeconds, null, null);
    }
}
