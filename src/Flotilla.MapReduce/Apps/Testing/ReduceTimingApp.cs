using System.Globalization;

namespace Flotilla.MapReduce.Apps.Testing;

/// <summary>Shows whether reduce tasks run in parallel (6.5840 rtiming.go): keys a..j, output "k N" where N
/// is how many workers were reducing at the same time.</summary>
internal sealed class ReduceTimingApp : IMapReduceApp
{
    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        for (var letter = 'a'; letter <= 'j'; letter++) yield return new KeyValue(letter.ToString(), "1");
    }

    public string Reduce(string key, IReadOnlyList<string> values) =>
        ParallelismProbe.CountParallel("reduce").ToString(CultureInfo.InvariantCulture);
}
