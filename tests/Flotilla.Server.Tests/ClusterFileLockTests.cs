using System.Diagnostics;
using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>
/// cluster.json's lock (<see cref="ClusterFileLock"/>): one cluster command at a time may read-modify-write the file.
/// A second one waits for the first up to its bound, then fails with one line naming the lock file; the CLI's
/// membership commands say so with exit 1.
/// </summary>
public sealed class ClusterFileLockTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("flotilla-lock-").FullName;

    private string ClusterFilePath
    {
        get
        {
            var path = Path.Combine(_directory, "cluster.json");
            if (!File.Exists(path)) new ClusterFile { Endpoints = ["http://127.0.0.1:1"] }.Save(path);
            return path;
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task TwoHoldersCannotHoldItAtOnceAndTheSecondIsToldWhoHasIt()
    {
        var path = ClusterFilePath;
        using (var first = await ClusterFileLock.AcquireAsync(path, TimeSpan.Zero))
        {
            Assert.Equal(path + ".lock", first.LockPath);
            var started = Stopwatch.StartNew();
            var refused = await Assert.ThrowsAsync<ClusterFileLockedException>(() => ClusterFileLock.AcquireAsync(path, TimeSpan.FromMilliseconds(300)));
            Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(300), $"gave up after {started.Elapsed}, before its bound");
            Assert.Equal($"another cluster command holds {path}.lock (waited 0.3 s); run this one again once it has finished", refused.Message);
        }
        // Let go: the next command gets it at once.
        using var next = await ClusterFileLock.AcquireAsync(path, TimeSpan.Zero);
    }

    [Fact]
    public async Task ASecondCommandWaitsForTheFirstAndThenHoldsIt()
    {
        var path = ClusterFilePath;
        var first = await ClusterFileLock.AcquireAsync(path, TimeSpan.Zero);
        var second = ClusterFileLock.AcquireAsync(path, TimeSpan.FromSeconds(30));
        await Task.Delay(300);
        Assert.False(second.IsCompleted, "the second holder got the lock while the first held it");
        first.Dispose();
        using var held = await second.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<ClusterFileLockedException>(() => ClusterFileLock.AcquireAsync(path, TimeSpan.Zero));
    }

    [Fact]
    public async Task AnotherProcessHoldingTheLockIsSeenToo()
    {
        var path = ClusterFilePath;
        using (await ClusterFileLock.AcquireAsync(path, TimeSpan.Zero))
            Assert.Equal(1, await FlockAsync(path + ".lock")); // util-linux flock -n: 1 when the file is locked
        Assert.Equal(0, await FlockAsync(path + ".lock"));

        static async Task<int> FlockAsync(string file)
        {
            using var flock = Process.Start(new ProcessStartInfo("flock", ["-n", "-E", "1", file, "true"]) { RedirectStandardError = true })!;
            await flock.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            return flock.ExitCode;
        }
    }

    [Theory]
    [InlineData("add")]
    [InlineData("remove", "2")]
    [InlineData("replace", "2")]
    public async Task AMembershipCommandThatCannotGetTheLockFailsWithOneLine(params string[] command)
    {
        var path = ClusterFilePath;
        using var held = await ClusterFileLock.AcquireAsync(path, TimeSpan.Zero);
        var (code, text) = await ClusterMembershipTests.RunAsync(["cluster", .. command, "--cluster", path, "--lock-timeout-seconds", "0"]);
        Assert.Equal(1, code);
        Assert.Equal($"flotilla: error: another cluster command holds {path}.lock (waited 0 s); run this one again once it has finished", text.Trim());
    }

    [Fact]
    public async Task TwoConcurrentAddsOnOneClusterBothSucceedOneAfterTheOther()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) is not null, TimeSpan.FromSeconds(30)));
            // Unlocked, both would read next_id 4 and race for it; locked, the second waits for the first and takes 5.
            var adds = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
                ClusterMembershipTests.RunAsync("cluster", "add", "--cluster", cluster.ClusterFilePath, "--json"))));
            Assert.All(adds, a => Assert.True(a.Code == 0, a.Text));
            var added = adds.Select(a => System.Text.Json.JsonDocument.Parse(a.Text).RootElement.GetProperty("added").GetInt32()).Order().ToList();
            Assert.Equal([4, 5], added);
            var file = ClusterFile.Load(cluster.ClusterFilePath);
            Assert.Equal([1, 2, 3, 4, 5], file.Members.Select(m => m.Id));
            Assert.Equal(6, file.NextMemberId);
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
                (await cluster.StatusAsync(TimeSpan.FromSeconds(2))).Values.Count(s => s is { Membership: "voters=(1 2 3 4 5)" }) == 5,
                TimeSpan.FromSeconds(30)), "not every member applied voters=(1 2 3 4 5)");
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    [Fact]
    public async Task AMissingClusterFileIsItsOwnErrorAndLeavesNoLockFile()
    {
        var missing = Path.Combine(_directory, "nope.json");
        var (code, text) = await ClusterMembershipTests.RunAsync("cluster", "remove", "2", "--cluster", missing);
        Assert.Equal(4, code);
        Assert.Contains("cluster file not found", text);
        Assert.False(File.Exists(missing + ".lock"));
    }
}
