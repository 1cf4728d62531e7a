using System.Text;
using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>Sorts and groups intermediate records and writes one "key value" line per key, keys in ordinal order.</summary>
public static class ReduceTaskRunner
{
    public static string OutputFileName(int reduceTask) => $"mr-out-{reduceTask}";

    /// <summary>Sorts <paramref name="records"/> in place, then <see cref="RunSorted"/>; returns how many output lines were written.</summary>
    public static long Run(IMapReduceApp app, List<KeyValue> records, Stream output)
    {
        MapTaskRunner.SortByKey(records);
        return RunSorted(app, records, output);
    }

    /// <summary>
    /// Groups <paramref name="sorted"/> (already in key order, e.g. from <see cref="SortedRunMerger"/>) by key and
    /// writes one line per key; returns how many output lines were written.
    /// </summary>
    public static long RunSorted(IMapReduceApp app, IEnumerable<KeyValue> sorted, Stream output)
    {
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var values = new List<string>();
        long lines = 0;
        string? key = null;
        foreach (var record in sorted)
        {
            if (key is not null && !string.Equals(record.Key, key, StringComparison.Ordinal))
            {
                WriteLine(writer, app, key, values);
                lines++;
                values.Clear();
            }
            key = record.Key;
            values.Add(record.Value);
        }
        if (key is not null)
        {
            WriteLine(writer, app, key, values);
            lines++;
        }
        return lines;
    }

    private static void WriteLine(StreamWriter writer, IMapReduceApp app, string key, List<string> values)
    {
        writer.Write(key);
        writer.Write(' ');
        writer.WriteLine(app.Reduce(key, values));
    }
}
