using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;

namespace Flotilla.MapReduce.Tests;

public sealed class KeySorterTests
{
    [Fact]
    public void SortsLikeAStableOrdinalOrderByOnKeysThatShareOrPadTheirPrefix()
    {
        string[] keys = ["", "a", "a\0", "a\0\0\0b", "a\0\0\0", "ab", "abcd", "abcde", "abcc\uffff", "abcd\0", "\uffff", "\ud83d\ude00",
            "\uffff\uffff\uffff\uffffz", "Z", "z", "naïve", "abcd", "a", ""];
        var random = new Random(7);
        var records = Enumerable.Range(0, 2000).Select(i => new KeyValue(keys[random.Next(keys.Length)], $"{i}")).ToList();
        var expected = records.OrderBy(r => r.Key, StringComparer.Ordinal).ToList(); // OrderBy is stable
        KeySorter.Sort(records);
        Assert.Equal(expected, records);
    }

    [Fact]
    public void SortsRandomPrintableKeysLikeOrdinal()
    {
        var random = new Random(11);
        var records = Enumerable.Range(0, 5000)
            .Select(i => new KeyValue(new string(Enumerable.Range(0, random.Next(0, 12)).Select(_ => (char)random.Next(' ', '~' + 1)).ToArray()), $"{i}"))
            .ToList();
        var expected = records.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        KeySorter.Sort(records);
        Assert.Equal(expected, records);
    }

    [Fact]
    public void ShortAndEmptyListsAreLeftAlone()
    {
        var none = new List<KeyValue>();
        KeySorter.Sort(none);
        Assert.Empty(none);
        var one = new List<KeyValue> { new("k", "v") };
        KeySorter.Sort(one);
        Assert.Equal([new KeyValue("k", "v")], one);
    }
}
