using System.Globalization;
using System.Text.Json;

namespace Flotilla.Cli.Bench;

/// <summary>Prints a <see cref="BenchResult"/> for people (a table) or for scripts (one JSON object, one line).</summary>
public static class BenchReportWriter
{
    public static void WriteText(BenchResult r, TextWriter output)
    {
        var o = r.Options;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Target} at {r.Endpoints}: {o.Clients} clients, {r.MeasuredSeconds:0.##}s measured after {o.Warmup.TotalSeconds:0.##}s warmup, " +
            $"{o.Keys} keys, {o.ValueBytes}-byte values, read ratio {o.ReadRatio:0.##}, {(o.SharedWrites ? "shared" : "owned")} writes"));
        if (r.Interrupted) output.WriteLine("interrupted: partial results");
        if (r.StoppedByHistoryLimit) output.WriteLine($"stopped early: the history reached {BenchOptions.HistoryOperationsMax} operations");
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-7} {1,10} {2,10} {3,9} {4,9} {5,9} {6,9}  {7}", "", "ok", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"));
        Row("reads", r.Reads, output);
        Row("writes", r.Writes, output);
        Row("all", r.All, output);
        var history = o.HistoryPath is null ? "" : $", history {r.HistoryOperations} operations -> {o.HistoryPath}";
        output.WriteLine($"put requests {r.PutRequests}, version conflicts {r.Conflicts}, refresh gets {r.RefreshGets}, keys preloaded {r.PreloadedKeys}{history}");
        if (r.ServerCpu is { } cpu)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"server cpu {cpu.CpuSeconds:0.###} s over {cpu.Processes} processes = {cpu.CpuMsPerOp * 1000:0.#} us per operation, peak RSS {cpu.PeakRssBytes / (1024.0 * 1024):0.#} MiB"));
    }

    private static void Row(string name, OpSummary s, TextWriter output)
    {
        var errors = s.Errors.Count == 0 ? "none" : string.Join(", ", s.Errors.Select(e => $"{e.Key} {e.Value}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-7} {s.Ok,10} {s.OpsPerSecond,10:0.0} {s.P50Ms,9:0.000} {s.P90Ms,9:0.000} {s.P99Ms,9:0.000} {s.MaxMs,9:0.000}  {errors}"));
    }

    public static void WriteJson(BenchResult r, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            var o = r.Options;
            w.WriteStartObject();
            w.WriteString("target", r.Target);
            w.WriteString("endpoints", r.Endpoints);
            w.WriteNumber("clients", o.Clients);
            w.WriteNumber("durationSeconds", o.Duration.TotalSeconds);
            w.WriteNumber("warmupSeconds", o.Warmup.TotalSeconds);
            w.WriteNumber("measuredSeconds", r.MeasuredSeconds);
            w.WriteNumber("keys", o.Keys);
            w.WriteNumber("valueBytes", o.ValueBytes);
            w.WriteNumber("readRatio", o.ReadRatio);
            w.WriteBoolean("sharedWrites", o.SharedWrites);
            w.WriteNumber("requestTimeoutSeconds", o.RequestTimeout.TotalSeconds);
            w.WriteNumber("seed", o.Seed);
            w.WriteBoolean("interrupted", r.Interrupted);
            w.WriteBoolean("stoppedByHistoryLimit", r.StoppedByHistoryLimit);
            w.WriteNumber("preloadedKeys", r.PreloadedKeys);
            Summary(w, "reads", r.Reads);
            Summary(w, "writes", r.Writes);
            Summary(w, "all", r.All);
            w.WriteNumber("putRequests", r.PutRequests);
            w.WriteNumber("refreshGets", r.RefreshGets);
            w.WriteNumber("conflicts", r.Conflicts);
            if (o.HistoryPath is null) w.WriteNull("history");
            else w.WriteString("history", o.HistoryPath);
            w.WriteNumber("historyOperations", r.HistoryOperations);
            if (r.ServerCpu is not { } cpu) w.WriteNull("serverCpu");
            else
            {
                w.WriteStartObject("serverCpu");
                w.WriteNumber("processes", cpu.Processes);
                w.WriteNumber("cpuSeconds", Math.Round(cpu.CpuSeconds, 3));
                w.WriteNumber("cpuUsPerOp", Math.Round(cpu.CpuMsPerOp * 1000, 3));
                w.WriteNumber("peakRssBytes", cpu.PeakRssBytes);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void Summary(Utf8JsonWriter w, string name, OpSummary s)
    {
        w.WriteStartObject(name);
        w.WriteNumber("ok", s.Ok);
        w.WriteNumber("opsPerSecond", Math.Round(s.OpsPerSecond, 3));
        w.WriteStartObject("latencyMs");
        w.WriteNumber("p50", s.P50Ms);
        w.WriteNumber("p90", s.P90Ms);
        w.WriteNumber("p99", s.P99Ms);
        w.WriteNumber("max", s.MaxMs);
        w.WriteNumber("mean", Math.Round(s.MeanMs, 6));
        w.WriteEndObject();
        w.WriteStartObject("errors");
        foreach (var (kind, count) in s.Errors) w.WriteNumber(kind, count);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
