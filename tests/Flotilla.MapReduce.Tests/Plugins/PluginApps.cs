using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Tests.Plugins;

/// <summary>
/// A user app shipped in its own assembly (this test assembly), loaded by path with --app: word count with a
/// custom partitioner that sends every key to the partition of its length.
/// </summary>
public sealed class LengthPartitionedWordCount : IPartitioningApp, ICombiningApp
{
    private readonly WordCountApp _inner = new();

    public IEnumerable<KeyValue> Map(string fileName, string contents) => _inner.Map(fileName, contents);

    public string Reduce(string key, IReadOnlyList<string> values) => _inner.Reduce(key, values);

    public string Combine(string key, IReadOnlyList<string> values) => _inner.Combine(key, values);

    public int Partition(string key, int reduceCount) => key.Length % reduceCount;
}

/// <summary>A second app in the same assembly, so loading needs PATH:TYPE to choose.</summary>
public sealed class UpperCaseOnlyWordCount : IMapReduceApp
{
    public IEnumerable<KeyValue> Map(string fileName, string contents) =>
        new WordCountApp().Map(fileName, contents).Where(kv => kv.Key.All(char.IsUpper));

    public string Reduce(string key, IReadOnlyList<string> values) => values.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
