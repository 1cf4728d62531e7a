using System.Buffers;
using System.Globalization;
using System.Text;

namespace Flotilla.MapReduce.Apps;

/// <summary>Word count: keys are maximal runs of letters, each occurrence counts one.</summary>
public sealed class WordCountApp : ISpanMapApp, IUtf8MapApp
{
    // On ASCII, char.IsLetter is true for exactly these.

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

    /// <summary>The same words as <see cref="Map(string, string)"/> on pure ASCII input; declines anything else.</summary>
    public bool TryMap(string fileName, ReadOnlySpan<byte> contents, Utf8SpanEmitter emit)
    {
        if (!Ascii.IsValid(contents)) return false;
        foreach (var word in new AsciiWords(contents)) emit(word, "1");
        return true;
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
