using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Flotilla.Benchmarks.Wal;

/// <summary>Entries/s or MB/s of entry payload, from the mean time of one invocation (one batch + one fsync)
/// and the case's <c>BatchSize</c> and <c>EntryBytes</c> parameters (1 and 4096 when absent).</summary>
public sealed class ThroughputColumn(bool megabytes) : IColumn
{
    public string Id => megabytes ? "WalMBps" : "WalEntriesPerSec";
    public string ColumnName => megabytes ? "MB/s" : "Entries/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => megabytes ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => megabytes ? "Entry payload megabytes (10^6) made durable per second" : "Entries made durable per second";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "-";
        var batch = Parameter(benchmarkCase, "BatchSize", 1);
        var entryBytes = Parameter(benchmarkCase, "EntryBytes", 4096);
        var entriesPerSecond = batch / (stats.Mean / 1e9);
        return megabytes ? (entriesPerSecond * entryBytes / 1e6).ToString("0.00") : entriesPerSecond.ToString("0");
    }

    private static int Parameter(BenchmarkCase benchmarkCase, string name, int fallback) =>
        benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value is int value ? value : fallback;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;
}
