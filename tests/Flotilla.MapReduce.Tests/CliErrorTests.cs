using Flotilla.MapReduce.Tests.Support;

namespace Flotilla.MapReduce.Tests;

/// <summary>Bad input gives one clear error line and a specific non-zero exit code.</summary>
[Collection(ProcessTests.Collection)]
public sealed class CliErrorTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();
    private readonly ProcessScope _processes = new();

    [Fact]
    public async Task UnknownAppNameExitsWithUsageError()
    {
        var run = _processes.Start(_dir.Path, ["mr", "run", "--app", "no-such-app", TestData.Books[0]]);
        await AssertOneErrorLine(run, 2, "unknown app 'no-such-app'");
    }

    [Fact]
    public async Task MalformedAppAssemblyExitsWithBadInput()
    {
        var bad = Path.Combine(_dir.Path, "bad.dll");
        await File.WriteAllBytesAsync(bad, [0x4d, 0x5a, 1, 2, 3]);
        var run = _processes.Start(_dir.Path, ["mr", "sequential", "--app", bad, TestData.Books[0]]);
        await AssertOneErrorLine(run, 4, "cannot load app assembly");
    }

    [Fact]
    public async Task MissingInputFileExitsWithBadInput()
    {
        var missing = Path.Combine(_dir.Path, "nope.txt");
        var coordinator = _processes.Start(_dir.Path, ["mr", "coordinator", "--reduce", "2", TestData.Books[0], missing]);
        await AssertOneErrorLine(coordinator, 4, "cannot read input file");
        Assert.Empty(Directory.GetFiles(_dir.Path, "mr-out-*"));
    }

    [Fact]
    public async Task UnreadableInputFileExitsWithBadInput()
    {
        // A directory is never readable as a file, even for root (chmod would not stop root).
        var run = _processes.Start(_dir.Path, ["mr", "run", "--app", "wc", _dir.Sub("a-directory")]);
        await AssertOneErrorLine(run, 4, "cannot read input file");
    }

    [Fact]
    public async Task UnreachableCoordinatorExitsWithUnavailable()
    {
        var worker = _processes.Start(_dir.Path, ["mr", "worker", "--app", "wc", "--coordinator", "127.0.0.1:1", "--connect-timeout-ms", "1000"]);
        await AssertOneErrorLine(worker, 3, "cannot reach the coordinator");
    }

    [Fact]
    public async Task WorkerWhoseCoordinatorIsKilledMidJobExitsWithUnavailable()
    {
        // jobcount's map takes 2-5 s and leaves a file when it starts: the worker is in touch and mid-task when the
        // coordinator dies, so it can only find the coordinator gone, never hear that the job is done.
        var (coordinator, address) = await _processes.StartCoordinatorAsync(_dir.Path, ["--reduce", "1"], [TestData.Books[0]]);
        var worker = _processes.StartWorker(_dir.Path, "jobcount", address);
        await Wait.UntilAsync(() => Directory.GetFiles(_dir.Path, "mr-worker-jobcount-*").Length > 0, Timeout, "the worker to start a map",
            () => worker.StandardError);
        coordinator.Kill();
        await AssertOneErrorLine(worker, 3, "lost the coordinator at ");
    }

    private static async Task AssertOneErrorLine(FlotillaProcess process, int exitCode, string expected)
    {
        Assert.Equal(exitCode, await process.WaitForExitAsync(Timeout));
        var lines = process.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("flotilla: error: ", line);
        Assert.Contains(expected, line);
    }

    public void Dispose()
    {
        _processes.Dispose();
        _dir.Dispose();
    }
}
