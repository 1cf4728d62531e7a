using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Flotilla.Cli.Bench;
using Flotilla.Cli.Commands;
using Flotilla.Cli.Infrastructure;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Cli.Tests;

public class LatencyHistogramTests
{
    [Fact]
    public void SmallValuesAreCountedExactly()
    {
        var h = new LatencyHistogram();
        for (var v = 0; v < LatencyHistogram.SubBucketCount; v++) h.Record(v);
        Assert.Equal(127, h.ValueAtPercentile(50));
        Assert.Equal(255, h.ValueAtPercentile(100));
        Assert.Equal(0, h.ValueAtPercentile(0));
    }

    [Fact]
    public void EveryValueLandsInABucketWithinOnePercentAboveIt()
    {
        var random = new Random(7);
        for (var i = 0; i < 100_000; i++)
        {
            var v = (long)(Math.Pow(2, random.NextDouble() * 62));
            var top = LatencyHistogram.HighestEquivalent(LatencyHistogram.IndexOf(v));
            Assert.True(top >= v && top - v <= v / 128, $"value {v} reported as {top}");
        }
        Assert.Equal(long.MaxValue, LatencyHistogram.HighestEquivalent(LatencyHistogram.IndexOf(long.MaxValue)));
    }

    [Fact]
    public void PercentilesOfAUniformRangeAreWithinHistogramPrecision()
    {
        var h = new LatencyHistogram();
        for (long v = 1; v <= 1_000_000; v++) h.Record(v * 1000); // 1 µs .. 1 s in ns
        AssertNear(500_000_000, h.ValueAtPercentile(50));
        AssertNear(900_000_000, h.ValueAtPercentile(90));
        AssertNear(990_000_000, h.ValueAtPercentile(99));
        Assert.Equal(1_000_000_000, h.ValueAtPercentile(100));
        Assert.Equal(1_000_000_000, h.Max);
        Assert.Equal(1000, h.Min);
        Assert.Equal(500_000_500.0, h.Mean, 3);
    }

    [Fact]
    public void ATailIsNotHiddenByTheMedian()
    {
        var h = new LatencyHistogram();
        for (var i = 0; i < 98; i++) h.Record(1_000);
        h.Record(50_000);
        h.Record(9_000_000);
        AssertNear(1_000, h.ValueAtPercentile(50));
        AssertNear(1_000, h.ValueAtPercentile(98));
        AssertNear(50_000, h.ValueAtPercentile(99));
        Assert.Equal(9_000_000, h.ValueAtPercentile(99.9));
    }

    [Fact]
    public void MergedHistogramsEqualOneHistogramOfAllValues()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        var both = new LatencyHistogram();
        var random = new Random(3);
        for (var i = 0; i < 10_000; i++)
        {
            var v = random.NextInt64(1, 10_000_000);
            (i % 3 == 0 ? a : b).Record(v);
            both.Record(v);
        }
        a.Add(b);
        Assert.Equal(both.Count, a.Count);
        Assert.Equal(both.Min, a.Min);
        Assert.Equal(both.Max, a.Max);
        foreach (var p in new[] { 1.0, 50, 90, 99, 99.99 }) Assert.Equal(both.ValueAtPercentile(p), a.ValueAtPercentile(p));
    }

    [Fact]
    public void AnEmptyHistogramReportsZeros()
    {
        var h = new LatencyHistogram();
        Assert.Equal(0, h.ValueAtPercentile(99));
        Assert.Equal(0, h.Mean);
    }

    private static void AssertNear(long expected, long actual) =>
        Assert.True(actual >= expected && actual <= expected + expected / 100, $"expected ~{expected} (within +1%), got {actual}");
}

public class BenchEngineTests
{
    private static readonly TimeSpan TestDeadline = TimeSpan.FromSeconds(20);

    // Tests that count outcomes inside the measured window use a longer one (CountingWindow): under a loaded CI machine
    // the test host can be starved for a whole 400 ms window, and then no request completes inside it.
    private static readonly TimeSpan CountingWindow = TimeSpan.FromSeconds(2);

    private static BenchOptions Options(int clients = 4, double readRatio = 0.5, bool shared = false, int keys = 40, TimeSpan? duration = null) => new()
    {
        Clients = clients,
        Duration = duration ?? TimeSpan.FromMilliseconds(400),
        Warmup = TimeSpan.FromMilliseconds(100),
        Keys = keys,
        ValueBytes = 32,
        ReadRatio = readRatio,
        SharedWrites = shared,
        RequestTimeout = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task OwnedWritesNeverConflictSoEachWriteIsOnePut()
    {
        var store = new FakeKvTarget();
        var result = await RunAsync(store, Options(readRatio: 0.3));

        // Counts depend on how busy the machine is; what must hold is structural.
        Assert.True(result.Writes.Ok > 0 && result.Reads.Ok > 0, $"{result.Writes.Ok} writes, {result.Reads.Ok} reads");
        Assert.Equal(0, result.Conflicts);
        Assert.Equal(0, result.RefreshGets);
        Assert.Equal(result.Writes.Ok, result.PutRequests);
        Assert.Empty(result.All.Errors);
        Assert.Equal(result.Reads.Ok + result.Writes.Ok, result.All.Ok);
        Assert.Equal(40, result.PreloadedKeys);
        Assert.InRange(result.All.OpsPerSecond, result.All.Ok / 0.5, result.All.Ok / 0.3);
        // The fake takes >= 1 ms per request: a percentile below that would be a unit or bucket bug.
        Assert.True(result.All.P50Ms >= 1 && result.All.P99Ms >= result.All.P50Ms && result.All.MaxMs >= result.All.P99Ms);
    }

    [Fact]
    public async Task SharedWritesConflictAndEachConflictCostsARefreshGetAndAnotherPut()
    {
        var result = await RunAsync(new FakeKvTarget(), Options(clients: 4, readRatio: 0, shared: true, keys: 2));

        Assert.Equal(0, result.Reads.Ok);
        Assert.True(result.Conflicts > 0, "4 clients writing 2 keys must conflict");
        Assert.Equal(result.Conflicts, result.RefreshGets);
        Assert.True(result.PutRequests > result.Writes.Ok, $"{result.PutRequests} puts for {result.Writes.Ok} writes");
    }

    [Fact]
    public async Task RunStopsByItselfAtWarmupPlusDuration()
    {
        var watch = Stopwatch.StartNew();
        var result = await RunAsync(new FakeKvTarget(), Options() with { Warmup = TimeSpan.FromMilliseconds(200), Duration = TimeSpan.FromMilliseconds(500) });
        watch.Stop();

        Assert.False(result.Interrupted);
        Assert.Equal(0.5, result.MeasuredSeconds, 2);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(700), $"ended after {watch.Elapsed}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"ended after {watch.Elapsed}");
    }

    [Fact]
    public async Task FailedRequestsAreCountedByKindAndNeverAsThroughput()
    {
        var store = new FakeKvTarget { PutFailure = BenchStatus.Unavailable };
        var result = await RunAsync(store, Options(readRatio: 0.5, duration: CountingWindow), recordHistory: true);

        Assert.Equal(0, result.Writes.Ok);
        Assert.Equal(0, result.Writes.OpsPerSecond);
        Assert.True(result.Writes.Errors["Unavailable"] > 0);
        Assert.Equal(["Unavailable"], result.Writes.Errors.Keys);
        Assert.Empty(result.Reads.Errors);
        Assert.Equal(result.Writes.Errors["Unavailable"], result.All.Errors["Unavailable"]);
    }

    [Fact]
    public async Task ErrMaybeIsCountedAsItsOwnKind()
    {
        // Reads make the engine preload (create) every key first; after that this fake answers every put ErrMaybe.
        var result = await RunAsync(new FakeKvTarget { PutFailure = BenchStatus.ErrMaybe }, Options(readRatio: 0.2, duration: CountingWindow));
        Assert.True(result.Writes.Errors.GetValueOrDefault("ErrMaybe") > 0, $"write errors: {string.Join(", ", result.Writes.Errors)}");
        Assert.Equal(0, result.Writes.Ok);
    }

    [Fact]
    public async Task HistoryOfACorrectStoreParsesAndIsLinearizable()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "history.json");
        // Shared writes on few keys: conflicts, refreshes and reads all interleave on the same keys.
        var options = Options(clients: 4, readRatio: 0.5, shared: true, keys: 3) with { HistoryPath = path };
        var result = await RunAsync(new FakeKvTarget(), options);

        var history = VersionedKv.FromJson(await File.ReadAllTextAsync(path));
        Assert.Equal(result.HistoryOperations, history.Count);
        Assert.True(history.Count > 20, $"only {history.Count} operations");
        Assert.Contains(history, o => o.Input.Op == KvOp.Put && o.Output?.Error == KvError.ErrVersion);
        Assert.Contains(history, o => o.Input.Op == KvOp.Get && o.Output?.Error == KvError.Ok);
        Assert.Equal(CheckOutcome.Ok, VersionedKv.Check(history, CheckOptions.WithTimeout(TimeSpan.FromSeconds(20))).Outcome);

        var (code, output, _) = await CliHarness.RunAsync("check", path);
        Assert.True(code == ExitCodes.Ok, output);
    }

    [Fact]
    public async Task HistoryOfAStoreWithStaleReadsIsFoundNotLinearizable()
    {
        // Negative control: the recorded history must carry enough to catch a broken store.
        var result = await RunAsync(new FakeKvTarget { StaleReads = true }, Options(clients: 2, readRatio: 0.5, keys: 2), recordHistory: true);
        Assert.True(result.HistoryOperations > 10);
        Assert.Equal(CheckOutcome.Illegal, VersionedKv.Check(LastHistory!, CheckOptions.WithTimeout(TimeSpan.FromSeconds(20))).Outcome);
    }

    [Fact]
    public async Task AbortStopsAtOnceAndLeavesRequestsInFlightAsNeverReturned()
    {
        var store = new FakeKvTarget { Latency = TimeSpan.FromMilliseconds(200) };
        var options = Options(readRatio: 0) with { Duration = TimeSpan.FromSeconds(30) };
        using var abort = new CancellationTokenSource();
        var engine = new BenchEngine(store, options);
        var run = engine.RunAsync(abort.Token, recordHistory: true);
        await WaitUntil(() => store.Puts >= 8);
        var aborted = Stopwatch.StartNew();
        abort.Cancel();
        var result = await run.WaitAsync(TestDeadline);

        Assert.True(aborted.Elapsed < TimeSpan.FromSeconds(5), $"took {aborted.Elapsed} to stop");
        Assert.True(result.Interrupted);
        Assert.Contains(engine.History!.Operations(), o => o.IsPending);
    }

    [Fact]
    public async Task ProbeRetriesQuickFailuresSoADownFirstEndpointIsNotFatal()
    {
        // Like an etcd session whose first member is down: refused at once, then the next member answers.
        var result = await RunAsync(new FakeKvTarget { UnavailableGets = 3 }, Options(readRatio: 0.5));
        Assert.True(result.All.Ok > 0);
    }

    [Fact]
    public async Task WatchedProcessCpuIsReportedPerOperationOfTheMeasuredWindow()
    {
        // The test process itself serves the fake store, so it is the "server" whose CPU is read.
        var result = await RunAsync(new FakeKvTarget(), Options(readRatio: 0.5, duration: CountingWindow) with { CpuPids = [Environment.ProcessId] });

        var cpu = Assert.IsType<ServerCpu>(result.ServerCpu);
        Assert.Equal(1, cpu.Processes);
        Assert.True(cpu.PeakRssBytes > 1024 * 1024, $"peak RSS {cpu.PeakRssBytes}");
        Assert.True(cpu.CpuSeconds >= 0);
        Assert.True(result.All.Ok > 0);
        Assert.Equal(cpu.CpuSeconds * 1000 / result.All.Ok, cpu.CpuMsPerOp, 9);
    }

    [Fact]
    public async Task JsonOutputHasEveryNumberTheScriptReads()
    {
        var stdout = new StringWriter();
        var io = new InvocationConfiguration { Output = stdout, Error = new StringWriter() };
        var code = await BenchCommand.RunAsync(new FakeKvTarget(), Options(readRatio: 0.5), json: true, io, CancellationToken.None);

        Assert.Equal(ExitCodes.Ok, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var root = json.RootElement;
        Assert.Equal("fake", root.GetProperty("target").GetString());
        Assert.Equal(4, root.GetProperty("clients").GetInt32());
        foreach (var kind in new[] { "reads", "writes", "all" })
        {
            var s = root.GetProperty(kind);
            Assert.True(s.GetProperty("opsPerSecond").GetDouble() > 0, kind);
            Assert.True(s.GetProperty("latencyMs").GetProperty("p99").GetDouble() >= 1, kind);
            Assert.Equal(JsonValueKind.Object, s.GetProperty("errors").ValueKind);
        }
    }

    [Fact]
    public async Task TextOutputShowsReadsWritesAndAll()
    {
        var stdout = new StringWriter();
        var io = new InvocationConfiguration { Output = stdout, Error = new StringWriter() };
        await BenchCommand.RunAsync(new FakeKvTarget(), Options(), json: false, io, CancellationToken.None);
        var lines = stdout.ToString().Split('\n');
        Assert.Contains(lines, l => l.StartsWith("reads "));
        Assert.Contains(lines, l => l.StartsWith("writes "));
        Assert.Contains(lines, l => l.StartsWith("all "));
    }

    private IReadOnlyList<Operation<KvInput, KvOutput>>? LastHistory { get; set; }

    private async Task<BenchResult> RunAsync(FakeKvTarget target, BenchOptions options, bool recordHistory = false)
    {
        var engine = new BenchEngine(target, options);
        var result = await engine.RunAsync(CancellationToken.None, recordHistory).WaitAsync(TestDeadline);
        if (engine.History is { } history)
        {
            LastHistory = history.Operations();
            if (options.HistoryPath is not null) history.Save(options.HistoryPath);
        }
        return result;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TestDeadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(10);
        }
    }
}

public class ProcessCpuMeterTests
{
    [Fact]
    public void StatFieldsAreCountedFromTheLastParenthesisOfTheCommandName()
    {
        // comm may hold spaces and ')' itself; utime (field 14) = 250 and stime (field 15) = 31 ticks.
        const string line = "4242 (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 31 0 0 20 0 9 0 100 200000000 5000 18446744073709551615";
        Assert.Equal(281, ProcessCpuMeter.ParseCpuTicks(line));
        Assert.Null(ProcessCpuMeter.ParseCpuTicks("garbage"));
    }

    [Fact]
    public void PeakRssIsVmHwmInBytes()
    {
        Assert.Equal(51234L * 1024, ProcessCpuMeter.ParsePeakRssBytes("Name:\tdotnet\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t 40000 kB\n"));
        Assert.Null(ProcessCpuMeter.ParsePeakRssBytes("Name:\tdotnet\n"));
    }

    [Fact]
    public void CpuSpentByAProcessShowsInItsSamples()
    {
        if (!OperatingSystem.IsLinux()) return; // /proc only
        var before = ProcessCpuMeter.Read(Environment.ProcessId)!.Value;
        var spin = Stopwatch.StartNew();
        long x = 0;
        while (spin.ElapsedMilliseconds < 300) x += spin.ElapsedTicks % 7;
        var after = ProcessCpuMeter.Read(Environment.ProcessId)!.Value;

        GC.KeepAlive(x);
        // 300 ms of spinning on this thread is at least ~0.2 s of CPU even if the thread was descheduled a third of the time.
        Assert.True(after.CpuSeconds - before.CpuSeconds >= 0.15, $"{before.CpuSeconds} -> {after.CpuSeconds}");
        Assert.True(after.PeakRssBytes > 0);
        Assert.Null(ProcessCpuMeter.Read(int.MaxValue));
    }

    [Fact]
    public void ServerCpuSumsProcessesReadableAtBothEndsOnly()
    {
        ProcessCpuSample[] start = [new(1, 10.0, 100), new(2, 5.0, 200), new(3, 1.0, 300)];
        ProcessCpuSample?[] end = [new ProcessCpuSample(1, 10.5, 150), null, new ProcessCpuSample(3, 1.25, 400)];
        var cpu = ServerCpu.From(start, end, operations: 1000);
        Assert.Equal(2, cpu.Processes);
        Assert.Equal(0.75, cpu.CpuSeconds, 9);
        Assert.Equal(0.75, cpu.CpuMsPerOp, 9);
        Assert.Equal(550, cpu.PeakRssBytes);
    }
}

public class BenchCommandTests
{
    [Theory]
    [InlineData("flotilla")]
    [InlineData("etcd")]
    public async Task UnreachableEndpointIsOneErrorLineAndExitCode3WithinTheDeadline(string target)
    {
        var port = FreeLoopbackPort();
        var watch = Stopwatch.StartNew();
        var (code, output, error) = await CliHarness.RunAsync("bench", "kv", "--target", target, "--cluster", $"127.0.0.1:{port}",
            "--duration", "30s", "--request-timeout", "1s");
        watch.Stop();

        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("flotilla: error: cannot reach", line);
        // What went wrong underneath, not gRPC's "Error connecting to subchannel." (which names nothing).
        Assert.DoesNotContain("subchannel", line);
        Assert.EndsWith($"127.0.0.1:{port}: unreachable (Connection refused)", line);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("--clients", "0")]
    [InlineData("--read-ratio", "1.5")]
    [InlineData("--duration", "soon")]
    public async Task BadNumbersAreUsageErrors(string option, string value)
    {
        var (code, _, error) = await CliHarness.RunAsync("bench", "kv", "--cluster", "127.0.0.1:1", option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(option, error);
    }

    [Theory]
    [InlineData("12,x")]
    [InlineData("-3")]
    [InlineData("2147483647")]
    public async Task BadCpuPidsAreUsageErrors(string pids)
    {
        var (code, _, error) = await CliHarness.RunAsync("bench", "kv", "--cluster", "127.0.0.1:1", "--cpu-pids", pids);
        Assert.Equal(ExitCodes.Usage, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--cpu-pids", line);
    }

    [Fact]
    public void ClusterFileListsEndpoints()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "cluster.json");
        File.WriteAllText(path, """{"endpoints": ["127.0.0.1:7001", "http://127.0.0.1:7002"]}""");
        Assert.Equal(["127.0.0.1:7001", "127.0.0.1:7002"], ClusterEndpoints.Parse(path).Select(u => u.Authority));
        Assert.Equal(["127.0.0.1:1", "127.0.0.1:2"], ClusterEndpoints.Parse("127.0.0.1:1, 127.0.0.1:2").Select(u => u.Authority));
    }

    private static int FreeLoopbackPort()
    {
        // Bind, read the port, close: nothing listens there afterwards, so connecting is refused.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>An in-memory versioned KV behind <see cref="IBenchTarget"/>: correct (linearizable: one lock, effects
/// inside it) unless told to misbehave.</summary>
internal sealed class FakeKvTarget : IBenchTarget
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Value, long Version)> _data = [];
    private readonly Dictionary<string, (string Value, long Version)> _previous = [];
    private long _puts;

    /// <summary>Every request takes at least this long (so a run makes a bounded number of requests).</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Answer every put with this instead (not applied), or null to behave.</summary>
    public BenchStatus? PutFailure { get; init; }

    /// <summary>Answer gets with the key's previous value when there is one: a broken store.</summary>
    public bool StaleReads { get; init; }

    /// <summary>Answer this many gets (the first ones) with Unavailable at once.</summary>
    public int UnavailableGets { get; init; }

    private int _getsRefused;

    public long Puts => Interlocked.Read(ref _puts);

    public string Name => "fake";

    public string Description => "in-memory";

    public IBenchSession OpenSession(int clientIndex, TimeSpan requestTimeout) => new Session(this);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Session(FakeKvTarget store) : IBenchSession
    {
        public async Task<BenchRead> GetAsync(string key, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref store._getsRefused) <= store.UnavailableGets) return new BenchRead(BenchStatus.Unavailable, Detail: "refused");
            await Task.Delay(store.Latency, cancellationToken);
            lock (store._lock)
            {
                if (store.StaleReads && store._previous.TryGetValue(key, out var old)) return new BenchRead(BenchStatus.Ok, old.Value, old.Version);
                return store._data.TryGetValue(key, out var e) ? new BenchRead(BenchStatus.Ok, e.Value, e.Version) : new BenchRead(BenchStatus.ErrNoKey);
            }
        }

        public async Task<BenchWrite> PutAsync(string key, string value, long expectedVersion, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref store._puts);
            await Task.Delay(store.Latency, cancellationToken);
            lock (store._lock)
            {
                var exists = store._data.TryGetValue(key, out var e);
                // Preloading must work even when puts are set to fail, so creates always go through.
                if (store.PutFailure is { } failure && exists) return new BenchWrite(failure);
                if (!exists && expectedVersion != 0) return new BenchWrite(BenchStatus.ErrNoKey);
                if (exists && e.Version != expectedVersion) return new BenchWrite(BenchStatus.ErrVersion);
                if (exists) store._previous[key] = e;
                store._data[key] = (value, expectedVersion + 1);
                return new BenchWrite(BenchStatus.Ok, expectedVersion);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("flotilla-bench-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
