using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

public sealed class AppTests
{
    [Fact]
    public void WordCountKeysAreMaximalRunsOfLetters()
    {
        var keys = new WordCountApp().Map("f", "Hello, world! It's 2026: naïve-fish").Select(kv => kv.Key).ToList();
        Assert.Equal(["Hello", "world", "It", "s", "naïve", "fish"], keys);
    }

    [Fact]
    public void WordCountSpanMapEmitsExactlyWhatItsEnumerableMapEmits()
    {
        var app = new WordCountApp();
        var text = File.ReadAllText(TestData.Books[0]);
        var fromSpans = new List<KeyValue>();
        app.Map("f", text, (key, value) => fromSpans.Add(new KeyValue(key.ToString(), value)));
        Assert.True(fromSpans.Count > 1000);
        Assert.Equal(app.Map("f", text).ToList(), fromSpans);
    }

    [Fact]
    public void WordCountReduceCountsBothOnesAndCombinedPartialSums()
    {
        var app = new WordCountApp();
        Assert.Equal("3", app.Reduce("w", ["1", "1", "1"]));
        Assert.Equal("66", app.Reduce("w", [app.Combine("w", Enumerable.Repeat("1", 64).ToList()), "1", "1"]));
    }

    [Fact]
    public void IndexerListsEachDocumentOnceSorted()
    {
        var app = new IndexerApp();
        var pairs = app.Map("b.txt", "cat dog cat").Concat(app.Map("a.txt", "cat")).Where(kv => kv.Key == "cat").ToList();
        Assert.Equal(2, pairs.Count);
        Assert.Equal("2 a.txt,b.txt", app.Reduce("cat", pairs.Select(p => p.Value).ToList()));
    }

    [Fact]
    public void GrepKeepsOnlyMatchingLinesKeyedInLineOrder()
    {
        var app = AppLoader.Load("grep", new Dictionary<string, string> { ["pattern"] = "wh[a-z]+e" });
        var hits = app.Map("moby.txt", "call me\nthe whale\nno\nwhite\n").ToList();
        Assert.Equal([new KeyValue("moby.txt:000000002", "the whale"), new KeyValue("moby.txt:000000004", "white")], hits);
    }

    [Fact]
    public void GrepWithoutAPatternIsRejected()
    {
        var error = Assert.Throws<MapReduceException>(() => AppLoader.Load("grep"));
        Assert.Equal(MapReduceError.BadAppArguments, error.Error);
    }

    [Fact]
    public void UnknownAppNameIsReportedWithTheBuiltInNames()
    {
        var error = Assert.Throws<MapReduceException>(() => AppLoader.Load("no-such-app"));
        Assert.Equal(MapReduceError.UnknownApp, error.Error);
        Assert.Contains("wc", error.Message);
    }

    [Fact]
    public void MalformedAssemblyIsReported()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "broken.dll");
        File.WriteAllText(path, "this is not a PE file");
        var error = Assert.Throws<MapReduceException>(() => AppLoader.Load(path));
        Assert.Equal(MapReduceError.BadAppAssembly, error.Error);
    }

    [Fact]
    public void AssemblyWithSeveralAppsNeedsTheTypeNamed()
    {
        var assembly = typeof(Plugins.LengthPartitionedWordCount).Assembly.Location;
        Assert.Equal(MapReduceError.BadAppAssembly, Assert.Throws<MapReduceException>(() => AppLoader.Load(assembly)).Error);

        var app = AppLoader.Load($"{assembly}:{typeof(Plugins.LengthPartitionedWordCount).FullName}");
        // Loaded into its own load context: a different type than ours, but the same app contract.
        Assert.NotEqual(typeof(Plugins.LengthPartitionedWordCount), app.GetType());
        Assert.Equal(typeof(Plugins.LengthPartitionedWordCount).FullName, app.GetType().FullName);
        Assert.Equal(3, Assert.IsAssignableFrom<IPartitioningApp>(app).Partition("abc", 10));
    }

    [Fact]
    public void Fnv1aMatchesPublishedTestVectors()
    {
        Assert.Equal(0x811c9dc5u, Partitioners.Fnv1a(""));
        Assert.Equal(0xe40c292cu, Partitioners.Fnv1a("a"));
        Assert.Equal(0xbf9cf968u, Partitioners.Fnv1a("foobar"));
        Assert.Equal(Partitioners.Fnv1a(new string('x', 1000)), Partitioners.Fnv1a(new string('x', 1000))); // the long-key path
    }

    [Fact]
    public void EveryPartitionerKeepsKeysInRange()
    {
        var app = new Plugins.LengthPartitionedWordCount();
        foreach (var name in Partitioners.Names)
        {
            var partition = Partitioners.Create(name, app);
            foreach (var key in new[] { "", "a", "Zebra", "naïve", new string('q', 300) })
                Assert.InRange(partition(key, 7), 0, 6);
        }
    }

    [Fact]
    public void CombiningMapOutputReducesToTheSameResult()
    {
        var app = new WordCountApp();
        var text = string.Join(' ', Enumerable.Repeat("the cat and the hat", 100));
        var partition = Partitioners.Create(Partitioners.Hash, app);
        string Run(bool combine)
        {
            var output = MapTaskRunner.Run(app, "f", text, 3, partition, combine);
            using var stream = new MemoryStream();
            ReduceTaskRunner.Run(app, output.Partitions.SelectMany(p => p).ToList(), stream);
            return System.Text.Encoding.UTF8.GetString(stream.ToArray());
        }
        Assert.Equal("and 100\ncat 100\nhat 100\nthe 200\n", Run(combine: false));
        Assert.Equal(Run(combine: false), Run(combine: true));
    }
}
