using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal.Snapshots;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests.Snapshots;

/// <summary>
/// The shared snapshot file: it round-trips on the simulated and the real disk; every single-bit flip, every
/// truncation, every extension, a directory in its place, a wrong kind and the older formats are refused with
/// <see cref="SnapshotCorruptionException"/> naming the file; a power loss during a write leaves the old or the new one.
/// </summary>
public sealed class SnapshotFileTests
{
    private const string Name = "store/snapshot";

    private static byte[] Payload(int seed, int bytes)
    {
        var payload = new byte[bytes];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    [Fact]
    public async Task RoundTripsOnTheSimulatedDisk()
    {
        var fs = new SimFileSystem();
        Assert.Null(await SnapshotFile.ReadAsync(fs, Name, SnapshotKind.KvStore));
        var payload = Payload(1, 300);
        await SnapshotFile.WriteAsync(fs, Name, SnapshotKind.KvStore, 4711, 9, payload);
        fs.Crash(new Random(1)); // the write was durable when it returned
        var read = await SnapshotFile.ReadAsync(fs, Name, SnapshotKind.KvStore);
        Assert.NotNull(read);
        Assert.Equal((SnapshotKind.KvStore, 4711UL, 9UL), (read.Kind, read.Index, read.Term));
        Assert.Equal(payload, read.Payload.ToArray());
    }

    [Fact]
    public async Task RoundTripsOnTheRealDiskAndReplacesTheOldFile()
    {
        using var directory = new TempDirectory();
        var fs = new PhysicalFileSystem(directory.Path);
        await SnapshotFile.WriteAsync(fs, Name, SnapshotKind.RaftGroup, 1, 1, Payload(1, 10_000));
        var payload = Payload(2, 50);
        await SnapshotFile.WriteAsync(fs, Name, SnapshotKind.RaftGroup, 2, 3, payload);
        var read = await SnapshotFile.ReadAsync(fs, Name, SnapshotKind.RaftGroup);
        Assert.NotNull(read);
        Assert.Equal((2UL, 3UL), (read.Index, read.Term));
        Assert.Equal(payload, read.Payload.ToArray());
        Assert.Equal(SnapshotFormat.HeaderBytes + payload.Length + SnapshotFormat.TrailerBytes, new FileInfo(Path.Combine(directory.Path, Name)).Length);
        Assert.False(File.Exists(Path.Combine(directory.Path, Name + ".tmp")));
    }

    [Fact]
    public void EverySingleBitFlipAnywhereInTheFileIsRefused()
    {
        var valid = SnapshotFormat.Encode(SnapshotKind.KvStore, 1234, 5, Payload(3, 40));
        for (var offset = 0; offset < valid.Length; offset++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var damaged = valid.ToArray();
                damaged[offset] ^= (byte)(1 << bit);
                var e = Assert.Throws<SnapshotCorruptionException>(() => SnapshotFormat.Decode(Name, damaged, SnapshotKind.KvStore));
                Assert.Equal(Name, e.File);
                Assert.InRange(e.Offset, 0, valid.Length);
                Assert.StartsWith($"{Name} at byte {e.Offset}: ", e.Message);
            }
        }
    }

    [Fact]
    public void AFlippedIndexOrTermIsCaughtByTheChecksumAtItsOffset()
    {
        var valid = SnapshotFormat.Encode(SnapshotKind.KvStore, 20, 0, Payload(4, 100));
        foreach (var field in new[] { 8, 16 })
        {
            var damaged = valid.ToArray();
            damaged[field] ^= 0x04;
            var e = Assert.Throws<SnapshotCorruptionException>(() => SnapshotFormat.Decode(Name, damaged, SnapshotKind.KvStore));
            Assert.Contains("checksum mismatch", e.Reason);
            Assert.Equal(SnapshotFormat.HeaderBytes + 100, e.Offset); // where the checksum is stored
        }
    }

    [Fact]
    public void EveryTruncationAndEveryExtensionIsRefused()
    {
        var valid = SnapshotFormat.Encode(SnapshotKind.RaftGroup, 7, 2, Payload(5, 64));
        for (var length = 0; length < valid.Length; length++)
        {
            var e = Assert.Throws<SnapshotCorruptionException>(() => SnapshotFormat.Decode(Name, valid.AsMemory(0, length), SnapshotKind.RaftGroup));
            Assert.Equal(Name, e.File);
        }
        for (var extra = 1; extra < 20; extra++)
        {
            var longer = valid.Concat(new byte[extra]).ToArray();
            Assert.Throws<SnapshotCorruptionException>(() => SnapshotFormat.Decode(Name, longer, SnapshotKind.RaftGroup));
        }
    }

    [Fact]
    public async Task ATruncatedFileOnDiskNamesTheFileAndWhereItEnds()
    {
        var fs = new SimFileSystem();
        await SnapshotFile.WriteAsync(fs, Name, SnapshotKind.RaftGroup, 7, 2, Payload(6, 500));
        using (var file = fs.Open(Name)) file.SetLength(300);
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => SnapshotFile.ReadAsync(fs, Name, SnapshotKind.RaftGroup).AsTask());
        Assert.Equal(300, e.Offset);
        Assert.Contains("truncated", e.Reason);
    }

    [Fact]
    public void AnotherStoresSnapshotAnUnknownVersionAndTheOlderFormatsAreRefused()
    {
        var raft = SnapshotFormat.Encode(SnapshotKind.RaftGroup, 1, 1, Payload(7, 8));
        var wrongKind = Assert.Throws<SnapshotCorruptionException>(() => SnapshotFormat.Decode(Name, raft, SnapshotKind.KvStore));
        Assert.Equal(5, wrongKind.Offset);

        var version = raft.ToArray();
        version[4] = 2;
        Assert.Contains("version 2", Assert.Throws<SnapshotCorruptionException>(() => SnapshotFormat.Decode(Name, version, SnapshotKind.RaftGroup)).Reason);

        foreach (var legacy in new[] { "FRSN"u8.ToArray(), "FLKV"u8.ToArray() })
        {
            var old = legacy.Concat(new byte[60]).ToArray();
            var e = Assert.Throws<SnapshotCorruptionException>(() => SnapshotFormat.Decode(Name, old, SnapshotKind.RaftGroup));
            Assert.Contains("older snapshot format", e.Reason);
        }
    }

    [Fact]
    public async Task ADirectoryInPlaceOfTheFileIsRefusedNotReadAsMissing()
    {
        using var directory = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(directory.Path, Name));
        var fs = new PhysicalFileSystem(directory.Path);
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => SnapshotFile.ReadAsync(fs, Name, SnapshotKind.KvStore).AsTask());
        Assert.Equal(Name, e.File);
        Assert.Contains("directory", e.Reason);
    }

    [Fact]
    public async Task AMissingFileIsNoSnapshotOnTheRealDiskToo()
    {
        using var directory = new TempDirectory();
        Assert.Null(await SnapshotFile.ReadAsync(new PhysicalFileSystem(directory.Path), Name, SnapshotKind.KvStore));
    }

    [Theory]
    [InlineData(5UL, 2UL, null, null, false)]  // the WAL needs index 5; no file
    [InlineData(5UL, 2UL, 4UL, 2UL, false)]    // older than the mark: 5 would be skipped
    [InlineData(5UL, 2UL, 5UL, 3UL, false)]    // same index, another term: another history
    [InlineData(5UL, 2UL, 5UL, 2UL, true)]     // exactly the mark
    [InlineData(5UL, 2UL, 9UL, 4UL, true)]     // newer: the crash window between the file and the mark
    [InlineData(0UL, 0UL, null, null, true)]   // no mark, no file: a fresh store
    public void TheSnapshotMustCoverTheWalsMark(ulong markIndex, ulong markTerm, ulong? index, ulong? term, bool accepted)
    {
        (ulong, ulong)? snapshot = index is { } i ? (i, term!.Value) : null;
        if (accepted)
        {
            SnapshotFile.RequireCoversMark(Name, snapshot, markIndex, markTerm);
            return;
        }
        var e = Assert.Throws<SnapshotCorruptionException>(() => SnapshotFile.RequireCoversMark(Name, snapshot, markIndex, markTerm));
        Assert.Contains($"the WAL says the snapshot at index {markIndex} term {markTerm} is required", e.Message);
        Assert.StartsWith($"{Name}: ", e.Message);
        if (index is null) Assert.Contains("missing", e.Reason);
    }

    [Fact]
    public Task PowerLossDuringAWriteLeavesTheOldOrTheNewSnapshot() =>
        Seeds.RunAsync(40, nameof(PowerLossDuringAWriteLeavesTheOldOrTheNewSnapshot), async seed =>
        {
            var random = new Random(seed);
            var sim = new SimFileSystem();
            StoredSnapshot? durable = null; // what the disk must hold: the last write that returned
            for (var round = 1; round <= 6; round++)
            {
                var payload = Payload(seed * 100 + round, random.Next(0, 2000));
                var fs = new CrashingFileSystem(sim, random) { CrashAt = random.Next(1, 9) };
                var completed = false;
                try
                {
                    await SnapshotFile.WriteAsync(fs, Name, SnapshotKind.KvStore, (ulong)round, 1, payload);
                    completed = true;
                    sim.Crash(random);
                }
                catch (PowerLossException)
                {
                }
                var read = await SnapshotFile.ReadAsync(sim, Name, SnapshotKind.KvStore); // never a damaged file
                var isNew = read is not null && read.Index == (ulong)round && read.Payload.Span.SequenceEqual(payload);
                var isOld = read is null ? durable is null : durable is not null && read.Index == durable.Index && read.Payload.Span.SequenceEqual(durable.Payload.Span);
                Assert.True(isNew || (!completed && isOld), $"round {round} (crash at op {fs.CrashAt}, completed {completed}): read index {read?.Index}, last durable {durable?.Index}");
                durable = read;
            }
        });
}
