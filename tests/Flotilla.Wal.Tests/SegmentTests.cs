using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

public sealed class SegmentTests
{
    private static readonly WalOptions Small = new() { SegmentBytes = 4096 };

    [Fact]
    public async Task LogRotatesAcrossManySegmentsAndRecoversAllOfThem()
    {
        var fs = new SimFileSystem();
        var expected = new ReferenceLog();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        for (ulong i = 1; i <= 2000; i++)
        {
            var data = WalAssert.Bytes((int)i, (int)(i % 97));
            log.Append(new WalEntry(i, 1 + i / 500, data));
            expected.Append(i, 1 + i / 500, data);
            if (i % 13 == 0) await log.SyncAsync();
        }
        log.SaveState([7]);
        expected.SaveState([7]);
        var fromSpare = log.SpareSegmentsUsed;
        var segmentCount = log.SegmentCount;
        await log.DisposeAsync();
        // Rotation normally renames a spare zero-filled in the background instead of zero-filling while callers wait.
        Assert.True(fromSpare >= segmentCount / 2, $"{fromSpare} of {segmentCount} segments came from a spare");
        Assert.All(fs.List("wal/").Where(n => n.EndsWith(".seg")).SkipLast(1), n => Assert.Equal(Small.SegmentBytes, fs.Open(n, create: false).Length));

        var segments = await WalInspector.InspectAsync(fs, Small.Directory);
        Assert.True(segments.Count >= 30, $"only {segments.Count} segments");
        Assert.All(segments, s => Assert.Null(s.Problem));
        // Each segment's name says where it starts; every segment opens with its header.
        Assert.All(segments, s => Assert.Equal("header", s.Records[0].Type));
        Assert.All(segments.Skip(1), s => Assert.Equal(s.FirstIndex, s.Records.First(r => r.Type == "entry").Index));
        Assert.All(segments, s => Assert.True(s.FileBytes <= Small.SegmentBytes, $"{s.Name} is {s.FileBytes} bytes"));

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        WalAssert.Recovered(expected, recovery);
        Assert.Equal(segments.Count, recovery.SegmentCount);
    }

    [Fact]
    public async Task RecordLargerThanASegmentGetsASegmentOfItsOwn()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        log.Append(new WalEntry(1, 1, new byte[] { 1 }));
        var big = WalAssert.Bytes(3, 10_000);
        log.Append(new WalEntry(2, 1, big));
        log.Append(new WalEntry(3, 1, new byte[] { 3 }));
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        Assert.Equal(big, recovery.Entries[1].Data.ToArray());
        Assert.Equal(3, recovery.Entries.Count);
        Assert.Equal(3, recovery.SegmentCount);
    }

    [Fact]
    public async Task CompactionDeletesSegmentsBelowTheSnapshotAndKeepsSizeBounded()
    {
        var fs = new SimFileSystem();
        var expected = new ReferenceLog();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        long sizeMax = 0;
        for (ulong i = 1; i <= 3000; i++)
        {
            var data = WalAssert.Bytes((int)i, 60);
            log.Append(new WalEntry(i, 2, data));
            expected.Append(i, 2, data);
            if (i % 10 != 0) continue;
            log.SaveState([(byte)i]);
            expected.SaveState([(byte)i]);
            await log.SyncAsync();
            if (i % 100 != 0) continue;
            // Raft snapshots what it applied, keeping a tail of 50 entries for slow followers.
            log.MarkSnapshot(i - 50, 2);
            expected.MarkSnapshot(i - 50, 2);
            await log.CompactAsync();
            sizeMax = Math.Max(sizeMax, log.SizeBytes);
        }
        // 3000 entries of ~100 bytes is ~300 KB; with compaction the log never holds more than a few segments.
        Assert.True(sizeMax <= 6 * Small.SegmentBytes, $"size reached {sizeMax} bytes");
        Assert.True(log.SegmentCount <= 6, $"{log.SegmentCount} segments left");
        Assert.True(fs.TotalBytes <= 8 * Small.SegmentBytes, $"{fs.TotalBytes} bytes on the simulated disk");
        Assert.Equal(2951UL, log.FirstIndex);
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        WalAssert.Recovered(expected, recovery);
        Assert.Equal(2950UL, recovery.SnapshotIndex);
    }

    [Fact]
    public async Task CompactionKeepsSegmentsWhoseEntriesAreAboveTheSnapshot()
    {
        var fs = new SimFileSystem();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        for (ulong i = 1; i <= 500; i++) log.Append(new WalEntry(i, 1, new byte[50]));
        await log.SyncAsync();
        var before = log.SegmentCount;
        log.MarkSnapshot(1, 1);
        await log.CompactAsync();
        Assert.Equal(before, log.SegmentCount);
        await log.DisposeAsync();
        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        Assert.Equal(499, recovery.Entries.Count);
    }

    [Fact]
    public async Task OverwriteThatReachesBackIntoACompactedRangeIsReplayedCorrectly()
    {
        // Entries 1..300 span several segments; the snapshot covers 1..100; then a new leader rewrites from 150.
        var fs = new SimFileSystem();
        var expected = new ReferenceLog();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, Small);
        for (ulong i = 1; i <= 300; i++)
        {
            log.Append(new WalEntry(i, 1, new byte[40]));
            expected.Append(i, 1, new byte[40]);
        }
        await log.SyncAsync();
        for (ulong i = 150; i <= 400; i++)
        {
            log.Append(new WalEntry(i, 2, new byte[] { (byte)i }));
            expected.Append(i, 2, new byte[] { (byte)i });
        }
        log.MarkSnapshot(200, 2);
        expected.MarkSnapshot(200, 2);
        await log.CompactAsync();
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(fs, Small);
        await using var _2 = reopened;
        WalAssert.Recovered(expected, recovery);
        Assert.Equal(201UL, reopened.FirstIndex);
        Assert.Equal(400UL, reopened.LastIndex);
    }
}
