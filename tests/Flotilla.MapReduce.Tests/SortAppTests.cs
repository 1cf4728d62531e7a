using System.Text;
using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

public sealed class SortAppTests
{
    /// <summary>gensort -a style lines: a random printable 10-character key, a space, an 88-character payload.</summary>
    internal static List<string> Records(int count, int seed)
    {
        var random = new Random(seed);
        var lines = new List<string>(count);
        var line = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            line.Clear();
            for (var k = 0; k < SortApp.KeyLength; k++) line.Append((char)random.Next(' ', '~' + 1));
            line.Append(' ').Append($"{seed:X8}{i:X24}").Append('x', 88 - 32);
            lines.Add(line.ToString());
        }
        return lines;
    }

    [Fact]
    public void MapSplitsEachLineIntoKeyAndPayloadAndReduceGivesTheLineBack()
    {
        var app = new SortApp();
        var records = app.Map("f", "0123456789 payload one\r\nabcdefghij two\nshort\n\nkkkkkkkkkkXno-space").ToList();
        Assert.Equal(
            [new("0123456789", "payload one"), new("abcdefghij", "two"), new("short", ""), new("", ""), new("kkkkkkkkkk", "Xno-space")],
            records);
        Assert.Equal("payload one", app.Reduce("0123456789", ["payload one"]));
    }

    [Fact]
    public void EqualKeysComeOutAsOneLineEachInPayloadOrder()
    {
        var app = new SortApp();
        using var output = new MemoryStream();
        ReduceTaskRunner.Run(app, [new("kkkkkkkkkk", "b"), new("aaaaaaaaaa", "z"), new("kkkkkkkkkk", "a")], output);
        Assert.Equal("aaaaaaaaaa z\nkkkkkkkkkk a\nkkkkkkkkkk b\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void RangePartitionIsMonotoneInKeyOrderAndBalancedForRandomKeys()
    {
        var app = new SortApp();
        const int reduceCount = 10;
        var keys = Records(20_000, seed: 7).Select(l => l[..SortApp.KeyLength])
            .Concat(["", " ", "~~~~~~~~~~", "\u0001", "\u00e9t\u00e9", "ab"]).Order(StringComparer.Ordinal).ToList();
        var partitions = keys.Select(k => app.Partition(k, reduceCount)).ToList();
        Assert.All(partitions, p => Assert.InRange(p, 0, reduceCount - 1));
        for (var i = 1; i < partitions.Count; i++)
            Assert.True(partitions[i - 1] <= partitions[i], $"'{keys[i - 1]}' -> {partitions[i - 1]} but '{keys[i]}' -> {partitions[i]}");
        // 2,000 expected per partition; binomial spread is about ±45, so ±15% only fails if the ranges are off.
        foreach (var size in partitions.GroupBy(p => p).Select(g => g.Count())) Assert.InRange(size, 1_700, 2_300);
        Assert.Equal(reduceCount, partitions.Distinct().Count());
    }

    [Fact]
    public void SequentialSortEqualsOrdinalSortOfTheLines()
    {
        using var dir = new TempDirectory();
        var lines = Records(3_000, seed: 1).Concat(Records(3_000, seed: 2)).ToList();
        lines.Add(lines[5][..SortApp.KeyLength] + " a duplicate key");
        var input = Path.Combine(dir.Path, "in.txt");
        File.WriteAllText(input, string.Join('\n', lines) + "\n");
        var output = Path.Combine(dir.Path, "out");
        SequentialRunner.Run(new SortApp(), [input], output);
        Assert.Equal(lines.Order(StringComparer.Ordinal), File.ReadAllLines(output));
    }
}
