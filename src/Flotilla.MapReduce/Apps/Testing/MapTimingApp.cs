using System.Globalization;

namespace Flotilla.MapReduce.Apps.Testing;

/// <summary>Shows whether map tasks run in parallel (6.5840 mtiming.go): output "parallel-PID N" lines.</summary>
internal sealed class MapTimingApp : IMapReduceApp
{
    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var started = ParallelismProbe.Now();
        var parallel = ParallelismProbe.CountParallel("map");
        return [new KeyValue($"times-{pid}", started), new KeyValue($"parallel-{pid}", parallel.ToString(CultureInfo.InvariantCulture))];
    }

    public string Reduce(string key, IReadOnlyList<string> values) => string.Join(' ', values.Order(StringComparer.Ordinal));
}
