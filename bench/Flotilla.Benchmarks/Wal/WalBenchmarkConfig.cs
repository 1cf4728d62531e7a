using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Flotilla.Benchmarks.Wal;

/// <summary>
/// In-process (no generated project to build) with a fixed number of iterations of 64 invocations each: every invocation does real fsyncs,
/// so the statistics converge quickly and the default job would take many minutes per case on this disk.
/// </summary>
public sealed class WalBenchmarkConfig : ManualConfig
{
    public WalBenchmarkConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            // Fixed: the pilot stage is fooled by fsyncs that happen to be fast at first and picks tiny iterations.
            .WithInvocationCount(64)
            .WithUnrollFactor(1));
        AddColumn(new ThroughputColumn(megabytes: false), new ThroughputColumn(megabytes: true));
        AddColumn(StatisticColumn.P50, StatisticColumn.P95);
    }
}
