using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

/// <summary>
/// Damage that a crash cannot cause but an operator, a bad disk or a restore can: a last segment that is emptied or
/// deleted, a missing manifest, a hole in the middle, a truncated preallocated segment, a sealed segment cut short.
/// Each used to be taken for a shorter log (acknowledged data silently gone); each must now refuse to open, naming
/// the file. And the one thing a crash does cause, a torn last write, is dropped exactly: that write's records only.
/// </summary>
public sealed class TailLossTests
{
    private static readonly WalOptions OneSegment = new() { SegmentBytes = 64 * 1024 };
    private static readonly WalOptions Small = new() { SegmentBytes = 4096 };

    /// <summary>Entries 1..count, each synced on its own (one write each).</summary>
    private static async Task<(SimFileSystem Fs, ReferenceLog Expected, List<string> Segments)> WriteAsync(WalOptions options, int count, int perBatch = 1)
    {
        var fs = new SimFileSystem();
        var expected = new ReferenceLog();
        var (log, _) = await WriteAheadLog.OpenAsync(fs, options);
        for (ulong i = 1; i <= (ulong)count; i++)
        {
            var data = WalAssert.Bytes((int)i, 90);
            log.Append(new WalEntry(i, 1, data));
            expected.Append(i, 1, data);
            if (i % (ulong)perBatch == 0) await log.SyncAsync();
        }
        await log.DisposeAsync();
        return (fs, expected, SegmentsOf(fs, options));
    }

    private static List<string> SegmentsOf(IFileSystem fs, WalOptions options) =>
        fs.List(options.Directory + "/").Where(n => n.EndsWith(".seg", StringComparison.Ordinal)).ToList();

    private static async Task<WalCorruptionException> RefusedAsync(IFileSystem fs, WalOptions options) =>
        await Assert.ThrowsAsync<WalCorruptionException>(async () => await WriteAheadLog.OpenAsync(fs, options));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ZeroLengthOnlySegmentIsRefusedInsteadOfRecoveringAnEmptyLog(bool preallocate)
    {
        var options = OneSegment with { Preallocate = preallocate };
        var (fs, _, segments) = await WriteAsync(options, 20);
        var only = Assert.Single(segments);
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == only ? [] : bytes);

        var error = await RefusedAsync(damaged, options);
        Assert.Equal(only, error.File);
        Assert.Contains("empty", error.Reason);
        Assert.Contains("manifest says it is the last durable segment", error.Reason);
    }

    [Fact]
    public async Task DeletedOnlySegmentIsRefusedNamingIt()
    {
        var (fs, _, segments) = await WriteAsync(OneSegment, 20);
        var only = Assert.Single(segments);
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == only ? null : bytes);

        var error = await RefusedAsync(damaged, OneSegment);
        Assert.Equal(only, error.File);
        Assert.Contains("missing", error.Reason);
        Assert.Contains("no segment is left", error.Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DeletedOrEmptiedLastOfSeveralSegmentsIsRefusedNamingIt(bool delete)
    {
        var (fs, _, segments) = await WriteAsync(Small, 120);
        Assert.True(segments.Count >= 4, $"{segments.Count} segments");
        var last = segments[^1];
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name != last ? bytes : delete ? null : []);

        var error = await RefusedAsync(damaged, Small);
        Assert.Equal(last, error.File);
        Assert.Contains("last durable segment", error.Reason);
    }

    [Fact]
    public async Task LastSegmentZeroedAfterItsHeaderIsRefused()
    {
        // A zeroed range that keeps the header: the first write of a segment (header and first batch) was durable
        // before the manifest named it, so a segment without an intact first batch lost data.
        var (fs, _, segments) = await WriteAsync(Small, 120);
        var info = (await WalInspector.InspectAsync(fs, Small.Directory))[^1];
        var firstBatch = info.Records.First(r => r.Type == "batch");
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) =>
        {
            if (name == segments[^1]) Array.Clear(bytes, (int)firstBatch.Offset, bytes.Length - (int)firstBatch.Offset);
            return bytes;
        });

        var error = await RefusedAsync(damaged, Small);
        Assert.Equal(segments[^1], error.File);
        Assert.Contains("first batch", error.Reason);
    }

    [Fact]
    public async Task MissingManifestIsRefused()
    {
        var (fs, _, _) = await WriteAsync(Small, 60);
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == "wal/manifest" ? null : bytes);

        var error = await RefusedAsync(damaged, Small);
        Assert.Equal("wal/manifest", error.File);
        Assert.Contains("manifest is missing", error.Reason);
    }

    [Fact]
    public async Task DeletedMiddleSegmentIsRefusedNamingItAndTheEntriesItHeld()
    {
        var (fs, _, segments) = await WriteAsync(Small, 200);
        Assert.True(segments.Count >= 4);
        var infos = await WalInspector.InspectAsync(fs, Small.Directory);
        var victim = infos[1];
        var entries = victim.Records.Where(r => r.Type == "entry").ToList();
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == victim.Name ? null : bytes);

        var error = await RefusedAsync(damaged, Small);
        Assert.Equal(victim.Name, error.File);
        Assert.Contains("missing", error.Reason);
        Assert.Contains($"entries {entries[0].Index}..{entries[^1].Index}", error.Reason);
    }

    [Fact]
    public async Task PreallocatedSegmentTruncatedInTheMiddleIsRefused()
    {
        // The reported loss: the last segment cut mid-file kept 9 of 20 entries and called the rest a torn tail.
        var (fs, _, segments) = await WriteAsync(OneSegment, 20);
        var info = (await WalInspector.InspectAsync(fs, OneSegment.Directory))[^1];
        var ninth = info.Records.First(r => r.Index == 10);
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == segments[^1] ? bytes[..(int)(ninth.Offset + 20)] : bytes);

        var error = await RefusedAsync(damaged, OneSegment);
        Assert.Equal(segments[^1], error.File);
        Assert.Equal(ninth.Offset + 20, error.Offset);
        Assert.Contains("preallocated", error.Reason);
        Assert.Contains("truncated", error.Reason);
    }

    [Fact]
    public async Task SealedSegmentCutShortAtABatchBoundaryIsRefusedEvenWithoutPreallocation()
    {
        // Growing files have no allocated length to check, but the next segment's header says where this one ended.
        var options = Small with { Preallocate = false };
        var (fs, _, segments) = await WriteAsync(options, 120);
        var infos = await WalInspector.InspectAsync(fs, options.Directory);
        var victim = infos[1];
        var lastBatch = victim.Records.Last(r => r.Type == "batch");
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == victim.Name ? bytes[..(int)lastBatch.Offset] : bytes);

        var error = await RefusedAsync(damaged, options);
        Assert.Equal(victim.Name, error.File);
        Assert.Equal(lastBatch.Offset, error.Offset);
        Assert.Contains("cut off", error.Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TornLastBatchIsDroppedWholeAndReportedWithItsRecordsAndIndexRange(bool preallocate)
    {
        // Five entries per write; the power cut kept only part of the last write (entries 16..20).
        var options = OneSegment with { Preallocate = preallocate };
        var (fs, expected, segments) = await WriteAsync(options, 20, perBatch: 5);
        var info = (await WalInspector.InspectAsync(fs, options.Directory))[^1];
        var batch = info.Records.Last(r => r.Type == "batch");
        var eighteenth = info.Records.Single(r => r.Index == 18);
        var cut = (int)eighteenth.Offset + 30;
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) =>
        {
            if (name != segments[^1]) return bytes;
            if (!preallocate) return bytes[..cut];
            Array.Clear(bytes, cut, bytes.Length - cut);
            return bytes;
        });
        var withoutLastWrite = expected.Clone();
        withoutLastWrite.Entries.RemoveRange(15, 5);

        var (log, recovery) = await WriteAheadLog.OpenAsync(damaged, options);
        await log.DisposeAsync();
        WalAssert.Recovered(withoutLastWrite, recovery);
        Assert.Equal((5, 16UL, 20UL), (recovery.TornRecordsDropped, recovery.TornFirstIndex, recovery.TornLastIndex));
        var original = await fs.ReadAllAsync(segments[^1]);
        Assert.Equal(original.AsSpan((int)batch.Offset, cut - (int)batch.Offset).LastIndexOfAnyExcept((byte)0) + 1, recovery.TornBytesDropped);
        Assert.Contains("5 records, entries 16..20", recovery.TornTail);
        Assert.Contains(segments[^1], recovery.TornTail);
    }

    [Fact]
    public async Task DamageInTheNextToLastWriteIsRefusedEvenInTheLastSegment()
    {
        // The last write exists, so the one before it was acknowledged: its damage is not a torn write.
        var (fs, _, segments) = await WriteAsync(OneSegment, 20, perBatch: 5);
        var info = (await WalInspector.InspectAsync(fs, OneSegment.Directory))[^1];
        var victim = info.Records.Single(r => r.Index == 15);
        var damaged = await SimDisk.CopyAsync(fs);
        damaged.Corrupt(segments[^1], victim.Offset + victim.Bytes - 1);

        var error = await RefusedAsync(damaged, OneSegment);
        Assert.Equal(victim.Offset, error.Offset);
        Assert.Contains("valid record follows", error.Reason);
    }

    [Fact]
    public async Task SegmentOfAnOlderFormatVersionIsRefusedSayingSo()
    {
        var (fs, _, segments) = await WriteAsync(OneSegment, 3);
        // Rewrite the header as format version 1 wrote it (24-byte payload, version 1), checksum and all.
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) =>
        {
            if (name == "wal/manifest") return null;
            if (name != segments[0]) return bytes;
            var header = new byte[40];
            BitConverter.TryWriteBytes(header.AsSpan(0), 40u);
            header[4] = 1;
            BitConverter.TryWriteBytes(header.AsSpan(16), 0x4C415746u);
            BitConverter.TryWriteBytes(header.AsSpan(20), 1u);
            BitConverter.TryWriteBytes(header.AsSpan(24), 1ul);
            BitConverter.TryWriteBytes(header.AsSpan(32), 1ul);
            var checksum = System.IO.Hashing.XxHash3.HashToUInt64(header.AsSpan(16, 24), BitConverter.ToInt64(header, 0));
            BitConverter.TryWriteBytes(header.AsSpan(8), checksum);
            header.CopyTo(bytes, 0);
            return bytes;
        });

        var error = await RefusedAsync(damaged, OneSegment);
        Assert.Equal(segments[0], error.File);
        Assert.Contains("unsupported WAL format version 1", error.Reason);
    }

    [Fact]
    public async Task SegmentBeyondTheManifestIsKeptAndTheManifestCatchesUp()
    {
        // A crash after a rotation made the new segment durable but before the manifest named it.
        var (fs, expected, segments) = await WriteAsync(Small, 120);
        var previous = segments[^2];
        var stem = previous["wal/".Length..^".seg".Length];
        var olderManifest = ManifestBytes(Convert.ToUInt64(stem[..16], 16), Convert.ToUInt64(stem[17..], 16));
        var damaged = await SimDisk.CopyAsync(fs, (name, bytes) => name == "wal/manifest" ? olderManifest : bytes);

        var (log, recovery) = await WriteAheadLog.OpenAsync(damaged, Small);
        await log.DisposeAsync();
        WalAssert.Recovered(expected, recovery);
        // The manifest now names the last segment: losing it is refused.
        damaged.Delete(segments[^1]);
        await damaged.SyncDirectoryAsync();
        var error = await RefusedAsync(damaged, Small);
        Assert.Equal(segments[^1], error.File);
    }

    /// <summary>The manifest's layout (docs/wal.md): magic, version 1, last sequence, its first index, XxHash3.</summary>
    private static byte[] ManifestBytes(ulong sequence, ulong firstIndex)
    {
        var bytes = new byte[32];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), 0x464D5746u);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), 1u);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), sequence);
        BitConverter.TryWriteBytes(bytes.AsSpan(16), firstIndex);
        BitConverter.TryWriteBytes(bytes.AsSpan(24), System.IO.Hashing.XxHash3.HashToUInt64(bytes.AsSpan(0, 24)));
        return bytes;
    }
}
