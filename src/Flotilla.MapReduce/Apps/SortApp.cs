namespace Flotilla.MapReduce.Apps;

/// <summary>
/// Sort (MapReduce paper §5.3, TeraSort): every input line is one record whose key is its first
/// <see cref="KeyLength"/> characters; the rest of the line after one separating space is the value (gensort -a
/// layout: a 100-byte record is a 10-byte key, a space and an 88-byte payload, then the newline). Each output line
/// is the key, a space and the value, i.e. the input line again, so with <c>--partitioner app</c> the mr-out-0,
/// mr-out-1, ... files concatenated in order are the input sorted by key (records with equal keys by value: the
/// order of <c>LC_ALL=C sort</c>). The partitioner is a range partitioner computed from the key space, printable
/// ASCII: it needs no sampling pass and is balanced for uniformly random printable keys, as gensort's are.
/// A line without that layout still sorts, but comes out with a space after its key (or after a key shorter than
/// <see cref="KeyLength"/>).
/// </summary>
public sealed class SortApp : IPartitioningApp
{
    public const int KeyLength = 10;

    // The leading characters that decide the range partition: 95^3 cells, plenty for any reduce count in use.
    private const int PrefixLength = 3;
    private const char Lowest = ' ';
    private const char Highest = '~';
    private const int Radix = Highest - Lowest + 1;
    private const long Cells = (long)Radix * Radix * Radix;

    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        var start = 0;
        while (start < contents.Length)
        {
            var end = contents.IndexOf('\n', start);
            if (end < 0) end = contents.Length;
            var lineEnd = end > start && contents[end - 1] == '\r' ? end - 1 : end;
            var length = lineEnd - start;
            if (length <= KeyLength) yield return new KeyValue(contents.Substring(start, length), "");
            else
            {
                var valueStart = start + KeyLength + (contents[start + KeyLength] == ' ' ? 1 : 0);
                yield return new KeyValue(contents.Substring(start, KeyLength), contents.Substring(valueStart, lineEnd - valueStart));
            }
            start = end + 1;
        }
    }

    /// <summary>One output line per record: equal keys are written as several lines, values in ordinal order.</summary>
    public string Reduce(string key, IReadOnlyList<string> values)
    {
        if (values.Count == 1) return values[0];
        var sorted = values.Order(StringComparer.Ordinal);
        return string.Join($"\n{key} ", sorted);
    }

    /// <summary>Non-decreasing in the key's ordinal order, so partition r holds only keys below partition r+1's.</summary>
    public int Partition(string key, int reduceCount)
    {
        long cell = 0;
        for (var i = 0; i < PrefixLength; i++)
            cell = cell * Radix + (i < key.Length ? Math.Clamp(key[i] - Lowest, 0, Radix - 1) : 0);
        return (int)(cell * reduceCount / Cells);
    }
}
