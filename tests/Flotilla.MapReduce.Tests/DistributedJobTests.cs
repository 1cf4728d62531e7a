using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

/// <summary>Real coordinator and worker processes on loopback, checked against the sequential reference.</summary>
[Collection(ProcessTests.Collection)]
public sealed class DistributedJobTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ProcessScope _processes = new();

    [Fact]
    public async Task WordCountOutputEqualsSequentialReference()
    {
        var books = TestData.Books;
        await LocalJob.RunAsync(_processes, _dir.Path, "wc", books, workers: 3);

        Outputs.AssertSame(Outputs.Reference(new WordCountApp(), books), Outputs.SortedLines(_dir.Path));
        Assert.Equal(10, Directory.GetFiles(_dir.Path, "mr-out-*").Length);
        Assert.Empty(Directory.GetFiles(_dir.Path, AtomicFile.TemporaryPrefix + "*")); // nothing half-written left behind
        foreach (var file in Directory.GetFiles(_dir.Path, "mr-out-*"))
        {
            var keys = File.ReadAllLines(file).Select(l => l[..l.IndexOf(' ')]).ToList();
            Assert.Equal(keys.Order(StringComparer.Ordinal), keys); // sorted within each file
        }
    }

    [Fact]
    public async Task IndexerOutputEqualsSequentialReferenceThroughASharedDirectory()
    {
        var books = TestData.SomeBooks(4);
        await LocalJob.RunAsync(_processes, _dir.Path, "indexer", books, workers: 2, ["--reduce", "5", "--shuffle", "shared"]);

        Outputs.AssertSame(Outputs.Reference(new IndexerApp(), books), Outputs.SortedLines(_dir.Path));
        Assert.True(File.Exists(Path.Combine(_dir.Path, IntermediateFormat.FileName(0, 0))), "shared mode keeps map output in the shared directory");
    }

    [Fact]
    public async Task ShuffleOverRpcWorksWithEachWorkerInItsOwnDirectory()
    {
        var books = TestData.SomeBooks(5);
        var output = _dir.Sub("output");
        var (coordinator, address) = await _processes.StartCoordinatorAsync(_dir.Sub("coordinator"), ["--reduce", "4", "--shuffle", "rpc"], books);
        var workerDirs = Enumerable.Range(0, 2).Select(i => _dir.Sub($"worker-{i}")).ToList();
        var workers = workerDirs.Select(d => _processes.StartWorker(d, "wc", address, ["--output", output])).ToList();

        Assert.Equal(0, await coordinator.WaitForExitAsync(LocalJob.JobTimeout));
        foreach (var worker in workers) Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        Outputs.AssertSame(Outputs.Reference(new WordCountApp(), books), Outputs.SortedLines(output));
        // Map output stayed private to the workers; reducers could only have got it over RPC.
        Assert.DoesNotContain(Directory.GetFiles(output, "mr-*-*"), f => !Path.GetFileName(f).StartsWith("mr-out-", StringComparison.Ordinal));
        var intermediate = workerDirs.SelectMany(d => Directory.GetFiles(d, "mr-*-*")).Select(Path.GetFileName).ToHashSet();
        for (var m = 0; m < books.Count; m++) Assert.Contains(IntermediateFormat.FileName(m, 0), intermediate);
    }

    [Fact]
    public async Task RunCommandWithCombinerMatchesReference()
    {
        var books = TestData.SomeBooks(4);
        var run = _processes.Start(_dir.Path, ["mr", "run", "--app", "wc", "--workers", "2", "--reduce", "3", "--combiner", .. books]);

        Assert.Equal(0, await run.WaitForExitAsync(LocalJob.JobTimeout));
        Outputs.AssertSame(Outputs.Reference(new WordCountApp(), books), Outputs.SortedLines(_dir.Path));
        Assert.Contains("job succeeded", run.StandardOutput);
        Assert.Contains("map 4/4", run.StandardOutput); // plain progress lines when stdout is not a terminal
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, ".flotilla-mr")), "run cleans up its scratch directory");
    }

    [Fact]
    public async Task CombinerIsOnByDefaultAndNoCombinerTurnsItOff()
    {
        var books = TestData.SomeBooks(2);
        var combined = _processes.Start(_dir.Path, ["mr", "run", "--app", "wc", "--workers", "2", "--reduce", "2", "--output", Path.Combine(_dir.Path, "on"), .. books]);
        Assert.Equal(0, await combined.WaitForExitAsync(LocalJob.JobTimeout));
        var plain = _processes.Start(_dir.Path, ["mr", "run", "--app", "wc", "--workers", "2", "--reduce", "2", "--no-combiner", "--output", Path.Combine(_dir.Path, "off"), .. books]);
        Assert.Equal(0, await plain.WaitForExitAsync(LocalJob.JobTimeout));

        var reference = Outputs.Reference(new WordCountApp(), books);
        Outputs.AssertSame(reference, Outputs.SortedLines(Path.Combine(_dir.Path, "on")));
        Outputs.AssertSame(reference, Outputs.SortedLines(Path.Combine(_dir.Path, "off")));
        // Without a combiner every word is a record; with it, each map task emits each distinct word once per partition.
        var withCombiner = MapRecordsOut(combined.StandardOutput);
        var without = MapRecordsOut(plain.StandardOutput);
        Assert.True(withCombiner * 3 < without, $"map records out: {withCombiner} by default, {without} with --no-combiner");
    }

    [Fact]
    public async Task CombinerAndNoCombinerTogetherAreAUsageError()
    {
        var run = _processes.Start(_dir.Path, ["mr", "run", "--app", "wc", "--combiner", "--no-combiner", .. TestData.SomeBooks(1)]);
        Assert.Equal(2, await run.WaitForExitAsync(LocalJob.JobTimeout));
        Assert.Contains("--combiner and --no-combiner contradict each other", run.StandardError);
    }

    private static long MapRecordsOut(string summary)
    {
        var match = System.Text.RegularExpressions.Regex.Match(summary, @"map: +\d+ inputs, (\d+) records out");
        Assert.True(match.Success, summary);
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task UserAssemblyAppWithCustomPartitionerMatchesReference()
    {
        var books = TestData.SomeBooks(3);
        var app = $"{typeof(Plugins.LengthPartitionedWordCount).Assembly.Location}:{typeof(Plugins.LengthPartitionedWordCount).FullName}";
        var output = _dir.Sub("out");
        var run = _processes.Start(_dir.Path,
            ["mr", "run", "--app", app, "--workers", "2", "--reduce", "4", "--partitioner", "app", "--combiner", "--output", output, .. books]);

        Assert.Equal(0, await run.WaitForExitAsync(LocalJob.JobTimeout));
        Outputs.AssertSame(Outputs.Reference(new WordCountApp(), books), Outputs.SortedLines(output));
        for (var r = 0; r < 4; r++)
        {
            foreach (var line in File.ReadAllLines(Path.Combine(output, $"mr-out-{r}")))
                Assert.Equal(r, line.IndexOf(' ') % 4); // the app's partitioner placed each key by its length
        }
    }

    [Fact]
    public async Task FirstLetterPartitionerChangesNothingButPlacement()
    {
        var books = TestData.SomeBooks(3);
        var run = _processes.Start(_dir.Path, ["mr", "run", "--app", "wc", "--workers", "2", "--reduce", "3", "--partitioner", "first-letter", .. books]);

        Assert.Equal(0, await run.WaitForExitAsync(LocalJob.JobTimeout));
        Outputs.AssertSame(Outputs.Reference(new WordCountApp(), books), Outputs.SortedLines(_dir.Path));
        foreach (var line in File.ReadAllLines(Path.Combine(_dir.Path, "mr-out-1"))) Assert.Equal(1, line[0] % 3);
    }

    [Fact]
    public async Task SortWithItsRangePartitionerGivesGloballySortedOutputInReduceOrder()
    {
        var inputDir = _dir.Sub("in");
        var lines = new List<string>();
        var inputs = new List<string>();
        for (var m = 0; m < 3; m++)
        {
            var records = SortAppTests.Records(4_000, seed: 100 + m);
            lines.AddRange(records);
            inputs.Add(Path.Combine(inputDir, $"part-{m}.txt"));
            File.WriteAllText(inputs[^1], string.Join('\n', records) + "\n");
        }
        var output = _dir.Sub("out");
        var run = _processes.Start(_dir.Path,
            ["mr", "run", "--app", "sort", "--workers", "2", "--reduce", "4", "--partitioner", "app", "--output", output, .. inputs]);

        Assert.Equal(0, await run.WaitForExitAsync(LocalJob.JobTimeout));
        var perReducer = Enumerable.Range(0, 4).Select(r => File.ReadAllLines(Path.Combine(output, $"mr-out-{r}"))).ToList();
        Assert.All(perReducer, part => Assert.True(part.Length > 1_000, "the range partitioner spreads random keys over every reducer"));
        // Complete (every record once) and sorted across files: the concatenation is the input sorted.
        Assert.Equal(lines.Order(StringComparer.Ordinal), perReducer.SelectMany(part => part));
    }

    public void Dispose()
    {
        _processes.Dispose();
        _dir.Dispose();
    }
}

[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class ProcessTests
{
    /// <summary>Process tests run one at a time: the machine has two cores.</summary>
    public const string Collection = "processes";
}
