using Flotilla.Simulation.Storage;

namespace Flotilla.Wal.Tests;

public sealed class LimitTests
{
    private static readonly WalOptions Options = new() { SegmentBytes = 4096, RecordBytesMax = 1024, StagedBytesMax = 4096 };

    [Fact]
    public async Task RecordAboveTheSizeLimitIsRejectedBeforeAnythingIsStaged()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Options);
        await using var _2 = log;
        Assert.Throws<ArgumentException>(() => log.Append(new WalEntry(1, 1, new byte[1024])));
        Assert.Throws<ArgumentException>(() => log.SaveState(new byte[1024]));
        Assert.Equal(0UL, log.LastIndex);
        log.Append(new WalEntry(1, 1, new byte[1024 - 32]));
        Assert.Equal(1UL, log.LastIndex);
    }

    [Fact]
    public async Task StagingMoreThanTheLimitWithoutSyncingIsRefused()
    {
        var (log, _) = await WriteAheadLog.OpenAsync(new SimFileSystem(), Options);
        await using var _2 = log;
        ulong i = 1;
        Assert.Throws<InvalidOperationException>(() =>
        {
            for (; i < 1000; i++) log.Append(new WalEntry(i, 1, new byte[500]));
        });
        Assert.Equal(i - 1, log.LastIndex);
        await log.SyncAsync();
        log.Append(new WalEntry(i, 1, new byte[500]));
    }

    [Fact]
    public async Task AppendsThatWouldLeaveAGapOrRewriteTheSnapshotAreRejected()
    {
        var (log, _) = await WriteAheadLog.OpenAsync(new SimFileSystem(), Options);
        await using var _2 = log;
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Append(new WalEntry(2, 1, default)));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Append(new WalEntry(0, 1, default)));
        for (ulong i = 1; i <= 5; i++) log.Append(new WalEntry(i, 1, default));
        log.MarkSnapshot(3, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Append(new WalEntry(3, 2, default)));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.MarkSnapshot(2, 1));
        Assert.Equal((4UL, 5UL), (log.FirstIndex, log.LastIndex));
    }

    [Fact]
    public async Task EmptyLogAfterASnapshotContinuesAtTheIndexAfterIt()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Options);
        log.MarkSnapshot(100, 4);
        Assert.Equal(0UL, log.LastIndex);
        log.Append(new WalEntry(101, 4, new byte[] { 1 }));
        await log.DisposeAsync();
        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Options);
        await using var _2 = reopened;
        Assert.Equal(101UL, Assert.Single(recovery.Entries).Index);
        Assert.Equal((100UL, 4UL), (recovery.SnapshotIndex, recovery.SnapshotTerm));
    }

    [Fact]
    public async Task ReopeningWithASmallerRecordLimitKeepsLargerRecordsAlreadyWritten()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, new WalOptions { SegmentBytes = 4096 });
        log.Append(new WalEntry(1, 1, new byte[3000]));
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Options);
        await using var _2 = reopened;
        Assert.Equal(3000, Assert.Single(recovery.Entries).Data.Length);
        Assert.Equal(0, recovery.TornBytesDropped);
    }
}
