using System.Buffers;
using System.Text;
using Flotilla.MapReduce.Core;

namespace Flotilla.MapReduce.Apps;

/// <summary>Inverted index: for each distinct word, the documents containing it ("count doc1,doc2,..." sorted).</summary>
public sealed class IndexerApp : IUtf8MapApp
{
    // On ASCII, char.IsLetter is true for exactly these (as in WordCountApp).

    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        var start = -1;
        for (var i = 0; i <= contents.Length; i++)
        {
            var letter = i < contents.Length && char.IsLetter(contents[i]);
            if (letter && start < 0) start = i;
            else if (!letter && start >= 0)
            {
                words.Add(contents.Substring(start, i - start));
                start = -1;
            }
        }
        foreach (var word in words) yield return new KeyValue(word, fileName);
    }

    /// <summary>
    /// The same records as <see cref="Map(string, string)"/> (each distinct word once, valued with the file name) on
    /// pure ASCII input, found as byte spans: no string per word; declines anything else.
    /// </summary>
    public bool TryMap(string fileName, ReadOnlySpan<byte> contents, Utf8SpanEmitter emit)
    {
        if (!Ascii.IsValid(contents)) return false;
        var seen = new Utf8KeyTable();
        foreach (var word in new AsciiWords(contents))
        {
            var known = seen.Count;
            seen.IndexOf(word);
            if (seen.Count > known) emit(word, fileName); // a word new to this document
        }
        return true;
    }

    /// <summary>
    /// A map task maps one document, so every value it has for a key is that document's name, emitted once: the
    /// engine never has two to combine. Should it ever, equal names collapse to one, which Reduce accepts.
    /// </summary>
    public string Combine(string key, IReadOnlyList<string> values)
    {
        foreach (var value in values)
            if (!string.Equals(value, values[0], StringComparison.Ordinal))
                throw new InvalidOperationException($"indexer: values from two documents ('{values[0]}', '{value}') in one map task");
        return values[0];
    }

    public string Reduce(string key, IReadOnlyList<string> values)
    {
        var documents = values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return $"{documents.Count} {string.Join(',', documents)}";
    }
}
