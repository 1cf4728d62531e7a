using System.Text;
using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>Sorts and groups intermediate records and writes one "key value" line per key, keys in ordinal order.</summary>
public static class ReduceTaskRunner
{
    public static string OutputFileName(int reduceTask) => $"mr-out-{reduceTask}";

    /// <summary>Returns how many output lines were written.</summary>
    public static long Run(IMapReduceApp app, List<KeyValue> records, Stream output)
    {
        MapTaskRunner.SortByKey(records);
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var values = new List<string>();
        long lines = 0;
        var i = 0;
        while (i < records.Count)
        {
            var key = records[i].Key;
            values.Clear();
            while (i < records.Count && string.Equals(records[i].Key, key, StringComparison.Ordinal)) values.Add(records[i++].Value);
            writer.Write(key);
            writer.Write(' ');
            writer.WriteLine(app.Reduce(key, values));
            lines++;
        }
        return lines;
    }
}
