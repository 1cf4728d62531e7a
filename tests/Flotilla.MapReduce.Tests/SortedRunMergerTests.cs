using System.Text;
using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;

namespace Flotilla.MapReduce.Tests;

public sealed class SortedRunMergerTests
{
    private static List<KeyValue> Run(params string[] keys) => keys.Select((k, i) => new KeyValue(k, $"{k}#{i}")).ToList();

    // The reference: all runs concatenated, then a stable sort by key (LINQ's OrderBy is stable), so equal keys stay in
    // run order, and within a run in that run's order.
    private static List<KeyValue> Expected(IEnumerable<List<KeyValue>> runs) =>
        runs.SelectMany(r => r).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();

    [Fact]
    public void MergesDuplicatesAcrossAndWithinRunsAndSkipsEmptyRuns()
    {
        List<List<KeyValue>> runs = [Run("b", "b", "d"), [], Run("a", "b", "e"), [], Run("", "b", "z", "z")];
        var merged = SortedRunMerger.Merge(runs).ToList();
        Assert.Equal(Expected(runs), merged);
        Assert.Equal(["", "a", "b", "b", "b", "b", "d", "e", "z", "z"], merged.Select(r => r.Key));
        // Equal keys in run order: run 0's two b's, then run 2's, then run 4's.
        Assert.Equal(["b#0", "b#1", "b#1", "b#1"], merged.Where(r => r.Key == "b").Select(r => r.Value));
    }

    [Fact]
    public void NoRunsOrOnlyEmptyRunsGiveNothing()
    {
        Assert.Empty(SortedRunMerger.Merge([]));
        Assert.Empty(SortedRunMerger.Merge([[], [], []]));
    }

    [Fact]
    public void RandomRunsMergeSortedCompleteAndStable()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var runs = Enumerable.Range(0, random.Next(0, 12)).Select(r =>
            {
                // Few distinct keys, so duplicates are common; some runs empty; non-ASCII too (ordinal, UTF-16 order).
                var keys = Enumerable.Range(0, random.Next(0, 40) * (random.Next(4) == 0 ? 0 : 1))
                    .Select(_ => new string("abé\uFFFD"[random.Next(4)], random.Next(0, 3)))
                    .Order(StringComparer.Ordinal).ToArray();
                return keys.Select((k, i) => new KeyValue(k, $"{r}.{i}")).ToList();
            }).ToList();
            Assert.Equal(Expected(runs), SortedRunMerger.Merge(runs).ToList());
        }
    }

    [Fact]
    public void ARunOutOfOrderIsAnErrorNotAWrongGrouping()
    {
        var error = Assert.Throws<InvalidDataException>(() => SortedRunMerger.Merge([Run("a", "c"), Run("b", "a")]).ToList());
        Assert.Contains("run 1", error.Message);
    }

    [Fact]
    public void ReducingMergedMapOutputEqualsReducingEverythingSorted()
    {
        var app = new WordCountApp();
        var texts = new[] { "the cat and the hat", "", "a cat, a dog; THE end", "the the the" };
        var partitions = texts.Select((t, i) => MapTaskRunner.Run(app, $"f{i}", t, 1, (_, _) => 0, combine: true).Partitions[0]).ToList();
        // Through the intermediate format, as a reduce task reads them.
        var encoded = partitions.Select(p => { var s = new MemoryStream(); IntermediateFormat.Write(s, p); return s.ToArray(); }).ToList();
        var merged = new MemoryStream();
        var lines = ReduceTaskRunner.RunSorted(app, SortedRunMerger.Merge(encoded.Select(b => IntermediateFormat.Read(new MemoryStream(b))).ToList()), merged);
        var sorted = new MemoryStream();
        Assert.Equal(ReduceTaskRunner.Run(app, partitions.SelectMany(p => p).ToList(), sorted), lines);
        Assert.Equal(Encoding.UTF8.GetString(sorted.ToArray()), Encoding.UTF8.GetString(merged.ToArray()));
        Assert.Contains("\nthe 5\n", Encoding.UTF8.GetString(merged.ToArray()));
    }
}
