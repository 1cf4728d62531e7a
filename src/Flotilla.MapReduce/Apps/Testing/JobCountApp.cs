using System.Globalization;
using System.Security.Cryptography;

namespace Flotilla.MapReduce.Apps.Testing;

/// <summary>
/// Counts map executions (6.5840 jobcount.go): each map call leaves a file "mr-worker-jobcount-PID-N" in the
/// current directory and takes 2–5 s; the single reduce outputs "a COUNT" with the number of such files.
/// With no failures the count must equal the number of input files: no task ran twice.
/// </summary>
internal sealed class JobCountApp : IMapReduceApp
{
    private int _calls;

    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        var name = $"mr-worker-jobcount-{Environment.ProcessId}-{Interlocked.Increment(ref _calls)}";
        File.WriteAllText(Path.Combine(Environment.CurrentDirectory, name), "x");
        Thread.Sleep(2000 + RandomNumberGenerator.GetInt32(3000));
        return [new KeyValue("a", "x")];
    }

    public string Reduce(string key, IReadOnlyList<string> values) =>
        Directory.EnumerateFiles(Environment.CurrentDirectory, "mr-worker-jobcount-*").Count().ToString(CultureInfo.InvariantCulture);
}
