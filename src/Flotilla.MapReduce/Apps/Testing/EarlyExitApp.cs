using System.Globalization;

namespace Flotilla.MapReduce.Apps.Testing;

/// <summary>
/// Catches processes that exit while output can still change (6.5840 early_exit.go): the key is the input
/// file name, and the reduces of some keys take 3 s longer than the others.
/// </summary>
internal sealed class EarlyExitApp : IMapReduceApp
{
    public IEnumerable<KeyValue> Map(string fileName, string contents) => [new KeyValue(fileName, "1")];

    public string Reduce(string key, IReadOnlyList<string> values)
    {
        if (key.Contains("sherlock", StringComparison.Ordinal) || key.Contains("tom", StringComparison.Ordinal))
            Thread.Sleep(TimeSpan.FromSeconds(3));
        return values.Count.ToString(CultureInfo.InvariantCulture);
    }
}
