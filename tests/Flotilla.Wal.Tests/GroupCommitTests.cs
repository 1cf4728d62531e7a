using Flotilla.Runtime.Execution;
using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

public sealed class GroupCommitTests
{
    private static readonly WalOptions Options = new() { SegmentBytes = 1 << 20 };

    [Fact]
    public async Task CallersArrivingDuringAFlushShareTheNextOne()
    {
        var fs = new CountingFileSystem(new SimFileSystem());
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Options);
        fs.HoldFlushes = true;
        var flushesBefore = fs.FileFlushes;

        // Twenty "requests" on one thread: each appends and syncs without waiting for the others.
        const int callers = 20;
        var syncs = new List<Task>();
        for (ulong i = 1; i <= callers; i++)
        {
            log.Append(new WalEntry(i, 1, new byte[] { (byte)i }));
            syncs.Add(log.SyncAsync().AsTask());
        }
        // The first caller's flush is in flight; the other nineteen wait for exactly one more.
        Assert.Equal(1, fs.HeldCount);
        Assert.All(syncs, s => Assert.False(s.IsCompleted));
        fs.ReleaseHeld();
        await WaitUntilAsync(() => fs.HeldCount == 1 || syncs.All(s => s.IsCompleted));
        Assert.True(syncs[0].IsCompleted);
        fs.HoldFlushes = false;
        fs.ReleaseHeld();
        await Task.WhenAll(syncs).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, fs.FileFlushes - flushesBefore);
        await log.DisposeAsync();
        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Options);
        await using var _2 = reopened;
        Assert.Equal(callers, recovery.Entries.Count);
    }

    [Fact]
    public async Task ConcurrentSyncsOnANodeSchedulerWithARealDiskCostFewerFsyncsThanCallers()
    {
        using var dir = new TempDirectory();
        var fs = new CountingFileSystem(new PhysicalFileSystem(dir.Path));
        var scheduler = new SerialSynchronizationContext();
        const int callers = 64;
        var result = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.Post(async _ =>
        {
            try
            {
                var (log, _) = await WriteAheadLog.OpenAsync(fs, Options);
                var before = fs.FileFlushes;
                var syncs = new List<Task>();
                for (ulong i = 1; i <= callers; i++)
                {
                    log.Append(new WalEntry(i, 1, new byte[100]));
                    syncs.Add(log.SyncAsync().AsTask());
                }
                await Task.WhenAll(syncs);
                var flushes = fs.FileFlushes - before;
                await log.DisposeAsync();
                result.SetResult(flushes);
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        }, null);
        var fsyncs = await result.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.InRange(fsyncs, 1, 2);
    }

    [Fact]
    public async Task SyncWithNothingStagedDoesNoIo()
    {
        var fs = new CountingFileSystem(new SimFileSystem());
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Options);
        await using var _2 = log;
        var before = (fs.FileFlushes, fs.Writes);
        await log.SyncAsync();
        await log.SyncAsync();
        Assert.Equal(before, (fs.FileFlushes, fs.Writes));
    }

    [Fact]
    public async Task FailedFsyncPoisonsTheLog()
    {
        var sim = new SimFileSystem();
        var fs = new CrashingFileSystem(sim, new Random(1));
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Options);
        log.Append(new WalEntry(1, 1, new byte[] { 1 }));
        fs.CrashAt = 1;
        await Assert.ThrowsAsync<PowerLossException>(async () => await log.SyncAsync());
        var error = Assert.Throws<IOException>(() => log.Append(new WalEntry(2, 1, new byte[] { 2 })));
        Assert.IsType<PowerLossException>(error.InnerException);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached within 10 s");
            await Task.Yield();
        }
    }
}
