using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

/// <summary>test-mr's timing and job-count scenarios: workers really run in parallel, and nothing runs twice.</summary>
[Collection(ProcessTests.Collection)]
public sealed class ParallelismTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ProcessScope _processes = new();

    [Fact]
    public async Task TwoWorkersRunMapTasksAtTheSameTime()
    {
        await LocalJob.RunAsync(_processes, _dir.Path, "mtiming", TestData.SomeBooks(4), workers: 2, ["--reduce", "2"]);

        var parallel = Outputs.SortedLines(_dir.Path).Where(l => l.StartsWith("parallel-", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(parallel);
        Assert.Contains(parallel, l => l.Split(' ').Skip(1).Contains("2"));
    }

    [Fact]
    public async Task TwoWorkersRunReduceTasksAtTheSameTime()
    {
        await LocalJob.RunAsync(_processes, _dir.Path, "rtiming", TestData.SomeBooks(2), workers: 2, ["--reduce", "4"]);

        var lines = Outputs.SortedLines(_dir.Path);
        Assert.Equal(10, lines.Count);
        Assert.Contains(lines, l => l.EndsWith(" 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutFailuresEachMapTaskRunsExactlyOnceEvenWhenSlow()
    {
        var books = TestData.Books;
        await LocalJob.RunAsync(_processes, _dir.Path, "jobcount", books, workers: 4, ["--reduce", "1"]);

        Assert.Equal([$"a {books.Count}"], Outputs.SortedLines(_dir.Path));
    }

    public void Dispose()
    {
        _processes.Dispose();
        _dir.Dispose();
    }
}
