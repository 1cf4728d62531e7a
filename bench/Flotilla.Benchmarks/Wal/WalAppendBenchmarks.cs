using BenchmarkDotNet.Attributes;
using Flotilla.Runtime.Storage;
using Flotilla.Wal;

namespace Flotilla.Benchmarks.Wal;

/// <summary>
/// Durable append throughput on the real disk: one invocation stages <see cref="BatchSize"/> entries of
/// <see cref="EntryBytes"/> bytes and makes them durable with one SyncAsync (one write + one fsync), as Raft does
/// with the entries that arrived during the previous fsync. Default options: 64 MiB preallocated segments.
/// </summary>
[Config(typeof(WalBenchmarkConfig))]
public class WalAppendBenchmarks
{
    private WalBench _bench = null!;

    [Params(100, 4096)] public int EntryBytes { get; set; }

    [Params(1, 16, 64)] public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup() => _bench = WalBench.Open(new WalOptions(), EntryBytes);

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark]
    public Task AppendBatchAndSync() => _bench.AppendAndSyncAsync(BatchSize);
}

/// <summary>The effect of <see cref="WalOptions.Preallocate"/> on the fsync-bound case (one 4 KiB entry per fsync).</summary>
[Config(typeof(WalBenchmarkConfig))]
public class WalPreallocationBenchmarks
{
    private WalBench _bench = null!;

    [Params(true, false)] public bool Preallocate { get; set; }

    [GlobalSetup]
    public void Setup() => _bench = WalBench.Open(new WalOptions { Preallocate = Preallocate }, entryBytes: 4096);

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark]
    public Task Append4KiBAndSync() => _bench.AppendAndSyncAsync(1);
}

/// <summary>A WAL in a fresh directory under /tmp, appending consecutive entries. Compacts (inside the measured
/// loop, as Raft would) once the log passes 256 MiB, so disk use stays bounded however long the run.
/// (No [IterationSetup]: it would force one invocation per iteration.)</summary>
internal sealed class WalBench : IDisposable
{
    private readonly string _directory;
    private readonly WriteAheadLog _log;
    private readonly byte[] _data;
    private ulong _next = 1;

    private WalBench(string directory, WriteAheadLog log, byte[] data)
    {
        _directory = directory;
        _log = log;
        _data = data;
    }

    public static WalBench Open(WalOptions options, int entryBytes)
    {
        var directory = Path.Combine("/tmp", "flotilla-wal-bench-" + Guid.NewGuid().ToString("N"));
        var (log, _) = WriteAheadLog.OpenAsync(new PhysicalFileSystem(directory), options).AsTask().GetAwaiter().GetResult();
        var data = new byte[entryBytes];
        new Random(1).NextBytes(data);
        return new WalBench(directory, log, data);
    }

    public async Task AppendAndSyncAsync(int batchSize)
    {
        for (var i = 0; i < batchSize; i++) _log.Append(new WalEntry(_next++, 1, _data));
        await _log.SyncAsync();
        if (_log.SizeBytes < CompactAboveBytes) return;
        _log.MarkSnapshot(_next - 1, 1);
        await _log.CompactAsync();
    }

    private const long CompactAboveBytes = 256L * 1024 * 1024;

    public void Dispose()
    {
        _log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }
}
