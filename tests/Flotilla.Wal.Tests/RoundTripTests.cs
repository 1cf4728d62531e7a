using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

public sealed class RoundTripTests
{
    private static readonly WalOptions Small = new() { SegmentBytes = 64 * 1024 };

    [Fact]
    public async Task EntriesSyncedOnRealDiskAreRecoveredAfterReopen()
    {
        using var dir = new TempDirectory();
        var fs = new PhysicalFileSystem(dir.Path);
        var expected = new ReferenceLog();
        var (log, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        Assert.Empty(recovery.Entries);
        await using (log)
        {
            for (ulong i = 1; i <= 100; i++)
            {
                var data = WalAssert.Bytes((int)i, (int)(i * 7 % 300));
                log.Append(new WalEntry(i, 1 + i / 10, data));
                expected.Append(i, 1 + i / 10, data);
                if (i % 9 == 0) await log.SyncAsync();
            }
            await log.SyncAsync();
            Assert.Equal(1UL, log.FirstIndex);
            Assert.Equal(100UL, log.LastIndex);
        }

        var (reopened, again) = await WriteAheadLog.OpenAsync(new PhysicalFileSystem(dir.Path), Small);
        await using (reopened)
        {
            WalAssert.Recovered(expected, again);
            Assert.Equal(0, again.TornBytesDropped);
            Assert.Equal(100UL, reopened.LastIndex);
        }
    }

    [Fact]
    public async Task AppendingContinuesWhereTheRecoveredLogEnds()
    {
        var fs = new SimFileSystem();
        var expected = new ReferenceLog();
        for (var round = 0; round < 5; round++)
        {
            var (log, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
            WalAssert.Recovered(expected, recovery);
            for (var k = 0; k < 10; k++)
            {
                var index = expected.NextIndex;
                var data = WalAssert.Bytes((int)index, 50);
                log.Append(new WalEntry(index, (ulong)round + 1, data));
                expected.Append(index, (ulong)round + 1, data);
            }
            await log.SyncAsync();
            await log.DisposeAsync();
        }
        var (final, last) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _ = final;
        WalAssert.Recovered(expected, last);
        Assert.Equal(50UL, final.LastIndex);
    }

    [Fact]
    public async Task OverwrittenSuffixStaysDiscardedAfterReopen()
    {
        var fs = new SimFileSystem();
        var expected = new ReferenceLog();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        for (ulong i = 1; i <= 10; i++)
        {
            log.Append(new WalEntry(i, 1, new byte[] { (byte)i }));
            expected.Append(i, 1, [(byte)i]);
        }
        await log.SyncAsync();
        // A new leader in term 2 disagrees from index 6 on: entries 6..10 are replaced by 6..7.
        log.Append(new WalEntry(6, 2, new byte[] { 0x66 }));
        log.Append(new WalEntry(7, 2, new byte[] { 0x77 }));
        expected.Append(6, 2, [0x66]);
        expected.Append(7, 2, [0x77]);
        Assert.Equal(7UL, log.LastIndex);
        await log.SyncAsync();
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        WalAssert.Recovered(expected, recovery);
        Assert.Equal(7UL, reopened.LastIndex);
        Assert.Equal(2UL, recovery.Entries[^1].Term);
    }

    [Fact]
    public async Task LatestStateAndSnapshotMarkSurviveReopen()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        for (ulong i = 1; i <= 20; i++) log.Append(new WalEntry(i, 3, new byte[] { (byte)i }));
        log.SaveState([1, 2, 3]);
        log.SaveState([4, 5, 6, 7]);
        log.MarkSnapshot(12, 3);
        await log.SyncAsync();
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, recovery.State.ToArray());
        Assert.Equal(12UL, recovery.SnapshotIndex);
        Assert.Equal(3UL, recovery.SnapshotTerm);
        Assert.Equal(Enumerable.Range(13, 8).Select(i => (ulong)i), recovery.Entries.Select(e => e.Index));
        Assert.Equal(13UL, reopened.FirstIndex);
    }

    [Fact]
    public async Task SnapshotWhoseTermConflictsWithTheLogSupersedesTheWholeLog()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        for (ulong i = 1; i <= 10; i++) log.Append(new WalEntry(i, 1, new byte[] { (byte)i }));
        // InstallSnapshot from a leader whose entry 5 has term 2: our entries after 5 are from a dead branch.
        log.MarkSnapshot(5, 2);
        Assert.Equal(0UL, log.LastIndex);
        log.Append(new WalEntry(6, 2, new byte[] { 0x66 }));
        await log.SyncAsync();
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        Assert.Equal(5UL, recovery.SnapshotIndex);
        var only = Assert.Single(recovery.Entries);
        Assert.Equal((6UL, 2UL), (only.Index, only.Term));
    }

    [Fact]
    public async Task EmptyStateAndEmptyEntryDataRoundTrip()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        log.SaveState([]);
        log.Append(new WalEntry(1, 1, ReadOnlyMemory<byte>.Empty));
        await log.SyncAsync();
        await log.DisposeAsync();
        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        Assert.Equal(0, recovery.State.Length);
        Assert.Equal(0, Assert.Single(recovery.Entries).Data.Length);
    }
}
