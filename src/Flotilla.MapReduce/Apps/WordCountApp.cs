using System.Globalization;

namespace Flotilla.MapReduce.Apps;

/// <summary>Word count: keys are maximal runs of letters, each occurrence counts one.</summary>
public sealed class WordCountApp : ISpanMapApp
{
    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        var start = -1;
        for (var i = 0; i <= contents.Length; i++)
        {
            var letter = i < contents.Length && char.IsLetter(contents[i]);
            if (letter && start < 0) start = i;
            else if (!letter && start >= 0)
            {
                yield return new KeyValue(contents.Substring(start, i - start), "1");
                start = -1;
            }
        }
    }

    public void Map(string fileName, string contents, SpanEmitter emit)
    {
        var start = -1;
        for (var i = 0; i <= contents.Length; i++)
        {
            var letter = i < contents.Length && char.IsLetter(contents[i]);
            if (letter && start < 0) start = i;
            else if (!letter && start >= 0)
            {
                emit(contents.AsSpan(start, i - start), "1");
                start = -1;
            }
        }
    }

    // Sums rather than counts values, so partial sums from the combiner are counted correctly.
    public string Reduce(string key, IReadOnlyList<string> values) => Sum(values);

    public string Combine(string key, IReadOnlyList<string> values) => Sum(values);

    private static string Sum(IReadOnlyList<string> values)
    {
        long total = 0;
        foreach (var value in values) total += value == "1" ? 1 : long.Parse(value, CultureInfo.InvariantCulture);
        return total.ToString(CultureInfo.InvariantCulture);
    }
}
