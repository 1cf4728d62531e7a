namespace Flotilla.MapReduce.Apps;

/// <summary>Inverted index: for each distinct word, the documents containing it ("count doc1,doc2,..." sorted).</summary>
public sealed class IndexerApp : IMapReduceApp
{
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

    public string Reduce(string key, IReadOnlyList<string> values)
    {
        var documents = values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return $"{documents.Count} {string.Join(',', documents)}";
    }
}
