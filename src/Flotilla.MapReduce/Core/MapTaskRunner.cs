using System.Runtime.InteropServices;
using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>The result of one map task: per reduce partition, records sorted by key (ordinal).</summary>
public sealed record MapOutput(IReadOnlyList<List<KeyValue>> Partitions, long RecordsIn, long RecordsOut);

/// <summary>Runs an app's Map over one input and partitions (and optionally combines) what it emits.</summary>
public static class MapTaskRunner
{
    // Combine a key's values once this many have piled up, so memory stays bounded for hot keys.
    private const int CombineBatch = 128;

    public static MapOutput Run(IMapReduceApp app, string fileName, string contents, int reduceCount,
        Func<string, int, int> partition, bool combine)
    {
        var combiner = combine ? app as ICombiningApp : null;
        return combiner is null
            ? RunPlain(app, fileName, contents, reduceCount, partition)
            : RunCombining(combiner, fileName, contents, reduceCount, partition);
    }

    /// <summary>
    /// Same as the string overload on the file's raw bytes: a combining <see cref="IUtf8MapApp"/> maps them without
    /// decoding; any other app (or one that declines the input) gets them decoded as <c>File.ReadAllText</c> would.
    /// </summary>
    public static MapOutput Run(IMapReduceApp app, string fileName, byte[] contents, int reduceCount,
        Func<string, int, int> partition, bool combine)
    {
        if (combine && app is IUtf8MapApp utf8App)
        {
            var table = new Utf8KeyTable();
            if (CollectUtf8(utf8App, fileName, contents, table)) return PartitionCombined(utf8App, table, reduceCount, partition);
        }
        return Run(app, fileName, InputText.Decode(contents), reduceCount, partition, combine);
    }

    private static MapOutput RunPlain(IMapReduceApp app, string fileName, string contents, int reduceCount, Func<string, int, int> partition)
    {
        var partitions = new List<KeyValue>[reduceCount];
        for (var r = 0; r < reduceCount; r++) partitions[r] = [];
        long emitted = 0;
        foreach (var record in app.Map(fileName, contents))
        {
            partitions[partition(record.Key, reduceCount)].Add(record);
            emitted++;
        }
        foreach (var records in partitions) SortByKey(records);
        return new MapOutput(partitions, 1, emitted);
    }

    private static MapOutput RunCombining(ICombiningApp app, string fileName, string contents, int reduceCount, Func<string, int, int> partition)
    {
        var pending = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (app is ISpanMapApp spanApp) CollectSpans(spanApp, fileName, contents, pending);
        else CollectRecords(app, fileName, contents, pending);
        var partitions = new List<KeyValue>[reduceCount];
        for (var r = 0; r < reduceCount; r++) partitions[r] = [];
        foreach (var (key, values) in pending)
            partitions[partition(key, reduceCount)].Add(new KeyValue(key, values.Count == 1 ? values[0] : app.Combine(key, values)));
        foreach (var records in partitions) SortByKey(records);
        return new MapOutput(partitions, 1, pending.Count);
    }

    private static void CollectRecords(ICombiningApp app, string fileName, string contents, Dictionary<string, List<string>> pending)
    {
        foreach (var record in app.Map(fileName, contents))
        {
            // One hash lookup per record: this loop is the hot path of every combining map task.
            ref var values = ref CollectionsMarshal.GetValueRefOrAddDefault(pending, record.Key, out _);
            values ??= new List<string>(4);
            values.Add(record.Value);
            if (values.Count >= CombineBatch)
            {
                var combined = app.Combine(record.Key, values);
                values.Clear();
                values.Add(combined);
            }
        }
    }

    // Same as CollectRecords, but a key seen before costs no allocation.
    private static void CollectSpans(ISpanMapApp app, string fileName, string contents, Dictionary<string, List<string>> pending)
    {
        var lookup = pending.GetAlternateLookup<ReadOnlySpan<char>>();
        app.Map(fileName, contents, (key, value) =>
        {
            if (!lookup.TryGetValue(key, out var actualKey, out var values))
            {
                values = new List<string>(4);
                actualKey = key.ToString();
                pending.Add(actualKey, values);
            }
            values.Add(value);
            if (values.Count >= CombineBatch)
            {
                var combined = app.Combine(actualKey, values);
                values.Clear();
                values.Add(combined);
            }
        });
    }

    private static bool CollectUtf8(IUtf8MapApp app, string fileName, byte[] contents, Utf8KeyTable table)
    {
        var batch = new List<string>(CombineBatch);
        var accepted = app.TryMap(fileName, contents, (key, value) =>
        {
            var index = table.IndexOf(key);
            if (table.AddValue(index, value) >= CombineBatch)
            {
                table.CopyValues(index, batch);
                table.ReplaceValues(index, app.Combine(table.Key(index), batch));
            }
        });
        if (!accepted && table.Count > 0)
            throw new InvalidOperationException($"{app.GetType().Name}.TryMap emitted records and then declined {fileName}");
        return accepted;
    }

    private static MapOutput PartitionCombined(ICombiningApp app, Utf8KeyTable table, int reduceCount, Func<string, int, int> partition)
    {
        var partitions = new List<KeyValue>[reduceCount];
        for (var r = 0; r < reduceCount; r++) partitions[r] = [];
        var values = new List<string>();
        for (var index = 0; index < table.Count; index++)
        {
            var key = table.Key(index);
            var value = table.SingleValue(index);
            if (value is null)
            {
                table.CopyValues(index, values);
                value = app.Combine(key, values);
            }
            partitions[partition(key, reduceCount)].Add(new KeyValue(key, value));
        }
        foreach (var records in partitions) SortByKey(records);
        return new MapOutput(partitions, 1, table.Count);
    }

    internal static void SortByKey(List<KeyValue> records) => KeySorter.Sort(records);
}
