using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

public sealed class DamageTests
{
    private const int DataBytes = 37;

    private static async Task<(SimFileSystem Fs, ReferenceLog Expected)> WriteEntriesAsync(WalOptions options, int count)
    {
        var fs = new SimFileSystem();
        var expected = new ReferenceLog();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, options);
        log.SaveState([9, 9]);
        expected.SaveState([9, 9]);
        for (ulong i = 1; i <= (ulong)count; i++)
        {
            var data = WalAssert.Bytes((int)i, DataBytes);
            log.Append(new WalEntry(i, 1, data));
            expected.Append(i, 1, data);
            await log.SyncAsync();
        }
        await log.DisposeAsync();
        return (fs, expected);
    }

    private static async Task<WalRecordInfo> LastEntryRecordAsync(SimFileSystem fs, WalOptions options)
    {
        var segments = await WalInspector.InspectAsync(fs, options.Directory);
        return segments[^1].Records.Last(r => r.Type == "entry");
    }

    /// <summary>The batch record that opens the last write: a torn tail drops that whole write.</summary>
    private static async Task<WalRecordInfo> LastBatchRecordAsync(SimFileSystem fs, WalOptions options)
    {
        var segments = await WalInspector.InspectAsync(fs, options.Directory);
        return segments[^1].Records.Last(r => r.Type == "batch");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TornTailAtEveryCutPointOfTheLastRecordRecoversThePreviousRecords(bool preallocate)
    {
        var options = new WalOptions { SegmentBytes = 16 * 1024, Preallocate = preallocate };
        var (fs, expected) = await WriteEntriesAsync(options, 20);
        var last = await LastEntryRecordAsync(fs, options);
        var batch = await LastBatchRecordAsync(fs, options);
        Assert.Equal(batch.Offset + batch.Bytes, last.Offset); // one entry per write: its batch record, then the entry
        var withoutLast = expected.Clone();
        withoutLast.Entries.RemoveAt(withoutLast.Entries.Count - 1);
        var segment = fs.List("wal/").Single(n => n.EndsWith(".seg"));
        var original = await fs.ReadAllAsync(segment);

        // Every cut from the start of the last write (its batch record) to the end of its entry.
        for (var cut = batch.Offset; cut <= last.Offset + last.Bytes; cut++)
        {
            // A power cut that kept only the first bytes of the last write: the rest is zeros (preallocated) or absent.
            var damaged = await SimDisk.CopyAsync(fs, (name, bytes) =>
            {
                if (name != segment) return bytes;
                var kept = bytes.AsSpan(0, (int)cut).ToArray();
                return preallocate ? [.. kept, .. new byte[bytes.Length - cut]] : kept;
            });
            var (log, recovery) = await WriteAheadLog.OpenAsync(damaged, options);
            var complete = cut == last.Offset + last.Bytes;
            WalAssert.Recovered(complete ? expected : withoutLast, recovery);
            // Dropped: the kept part of the torn write (batch record included), up to its last non-zero byte, and
            // the one record it was to hold, entry 20, once its batch record is intact (else the count is unknown).
            var tornPart = original.AsSpan((int)batch.Offset, (int)(cut - batch.Offset));
            Assert.Equal(complete ? 0 : tornPart.LastIndexOfAnyExcept((byte)0) + 1, recovery.TornBytesDropped);
            // (Zero-filled, the batch record is intact once its last non-zero byte is kept.)
            var batchRecordEnd = batch.Offset + (preallocate ? original.AsSpan((int)batch.Offset, batch.Bytes).LastIndexOfAnyExcept((byte)0) + 1 : batch.Bytes);
            var batchIntact = !complete && cut >= batchRecordEnd;
            Assert.Equal(batchIntact ? (1, 20UL, 20UL) : (0, 0UL, 0UL), (recovery.TornRecordsDropped, recovery.TornFirstIndex, recovery.TornLastIndex));
            Assert.Equal(complete || cut == batch.Offset, recovery.TornTail is null);

            // The repaired log accepts new records where the old one was torn, and they survive another reopen.
            var next = complete ? 21UL : 20UL;
            log.Append(new WalEntry(next, 2, new byte[] { 0xAB }));
            await log.SyncAsync();
            await log.DisposeAsync();
            var (reopened, again) = await WriteAheadLog.OpenAsync(damaged, options);
            await reopened.DisposeAsync();
            Assert.True(again.TornBytesDropped == 0, $"cut {cut - last.Offset}: reopen dropped {again.TornBytesDropped}");
            Assert.Equal(next, again.Entries[^1].Index);
            Assert.Equal(2UL, again.Entries[^1].Term);
        }
    }

    [Fact]
    public async Task TornTailFullOfGarbageIsDroppedWhenNothingValidFollows()
    {
        var options = new WalOptions { SegmentBytes = 16 * 1024 };
        var (fs, expected) = await WriteEntriesAsync(options, 10);
        var last = await LastEntryRecordAsync(fs, options);
        var batch = await LastBatchRecordAsync(fs, options);
        var withoutLast = expected.Clone();
        withoutLast.Entries.RemoveAt(withoutLast.Entries.Count - 1);
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) =>
        {
            // The last record's sectors hold random bytes, and so do a few hundred bytes beyond it.
            if (name.EndsWith(".seg")) new Random(7).NextBytes(bytes.AsSpan((int)last.Offset + 20, 300));
            return bytes;
        });
        var (log, recovery) = await WriteAheadLog.OpenAsync(damaged, options);
        await log.DisposeAsync();
        WalAssert.Recovered(withoutLast, recovery);
        Assert.Equal(last.Offset + 320 - batch.Offset, recovery.TornBytesDropped);
        Assert.Equal((1, 10UL, 10UL), (recovery.TornRecordsDropped, recovery.TornFirstIndex, recovery.TornLastIndex));
    }

    [Fact]
    public async Task FlippedByteInTheMiddleOfTheLogIsRefusedNamingFileAndOffset()
    {
        var options = new WalOptions { SegmentBytes = 16 * 1024 };
        var (fs, _) = await WriteEntriesAsync(options, 20);
        var segments = await WalInspector.InspectAsync(fs, options.Directory);
        var victim = segments[0].Records.First(r => r.Index == 7);
        var damaged = await SimDisk.CopyAsync(fs);
        damaged.Corrupt(segments[0].Name, victim.Offset + 40);

        var error = await Assert.ThrowsAsync<WalCorruptionException>(async () => await WriteAheadLog.OpenAsync(damaged, options));
        Assert.Equal(segments[0].Name, error.File);
        Assert.Equal(victim.Offset, error.Offset);
        Assert.Contains("checksum", error.Reason);
        Assert.Contains("valid record follows", error.Reason);
    }

    [Fact]
    public async Task FlippedLengthFieldInTheMiddleIsStillRefused()
    {
        var options = new WalOptions { SegmentBytes = 16 * 1024 };
        var (fs, _) = await WriteEntriesAsync(options, 20);
        var segments = await WalInspector.InspectAsync(fs, options.Directory);
        var victim = segments[0].Records.First(r => r.Index == 3);
        var damaged = await SimDisk.CopyAsync(fs);
        damaged.Corrupt(segments[0].Name, victim.Offset + 1, 0x40);

        var error = await Assert.ThrowsAsync<WalCorruptionException>(async () => await WriteAheadLog.OpenAsync(damaged, options));
        Assert.Equal(victim.Offset, error.Offset);
    }

    [Fact]
    public async Task FlippedByteInTheLastRecordRecoversAsATornTail()
    {
        var options = new WalOptions { SegmentBytes = 16 * 1024 };
        var (fs, expected) = await WriteEntriesAsync(options, 20);
        var last = await LastEntryRecordAsync(fs, options);
        var withoutLast = expected.Clone();
        withoutLast.Entries.RemoveAt(withoutLast.Entries.Count - 1);
        var damaged = await SimDisk.CopyAsync(fs);
        damaged.Corrupt(fs.List("wal/").Single(n => n.EndsWith(".seg")), last.Offset + last.Bytes - 3);

        var (log, recovery) = await WriteAheadLog.OpenAsync(damaged, options);
        await log.DisposeAsync();
        WalAssert.Recovered(withoutLast, recovery);
        Assert.True(recovery.TornBytesDropped > 0);
    }

    [Fact]
    public async Task DamageInASealedSegmentIsRefusedEvenAtItsEnd()
    {
        var options = new WalOptions { SegmentBytes = 4096 };
        var (fs, _) = await WriteEntriesAsync(options, 200);
        var segments = await WalInspector.InspectAsync(fs, options.Directory);
        Assert.True(segments.Count >= 3);
        var sealedSegment = segments[1];
        var lastRecord = sealedSegment.Records[^1];
        var damaged = await SimDisk.CopyAsync(fs);
        damaged.Corrupt(sealedSegment.Name, lastRecord.Offset + lastRecord.Bytes - 2);

        var error = await Assert.ThrowsAsync<WalCorruptionException>(async () => await WriteAheadLog.OpenAsync(damaged, options));
        Assert.Equal(sealedSegment.Name, error.File);
        Assert.Equal(lastRecord.Offset, error.Offset);
        Assert.Contains("sealed segment", error.Reason);
    }

    [Fact]
    public async Task MissingSegmentInTheMiddleIsRefused()
    {
        var options = new WalOptions { SegmentBytes = 4096 };
        var (fs, _) = await WriteEntriesAsync(options, 200);
        var names = fs.List("wal/").Where(n => n.EndsWith(".seg")).ToList();
        Assert.True(names.Count >= 3);
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == names[1] ? null : bytes);

        var error = await Assert.ThrowsAsync<WalCorruptionException>(async () => await WriteAheadLog.OpenAsync(damaged, options));
        Assert.Contains("missing", error.Reason);
    }
}
