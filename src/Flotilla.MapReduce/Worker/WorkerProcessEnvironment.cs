using System.Diagnostics;

namespace Flotilla.MapReduce.Worker;

/// <summary>
/// Runtime settings for the worker processes a launcher starts (<c>flotilla mr run</c>, bench/mapreduce). Tiered
/// compilation off: a worker is a short batch process whose hot loops run for seconds, and with tiering on it spent a
/// quarter of its CPU re-compiling them (tier-0, instrumented, then tier-1: perf showed the JIT and its background
/// thread at ~45% of a sort job's samples on 2 cores); off, each method is compiled once, optimized, and the
/// framework's precompiled (ReadyToRun) code is used as is, so start-up is no slower. docs/benchmarks.md has the A/B.
/// </summary>
public static class WorkerProcessEnvironment
{
    public static IReadOnlyDictionary<string, string> Variables { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["DOTNET_TieredCompilation"] = "0" };

    /// <summary>Adds <see cref="Variables"/> to <paramref name="start"/>, except any the launcher's own environment sets.</summary>
    public static void ApplyTo(ProcessStartInfo start)
    {
        foreach (var (name, value) in Variables)
            if (Environment.GetEnvironmentVariable(name) is null) start.Environment[name] = value;
    }
}
