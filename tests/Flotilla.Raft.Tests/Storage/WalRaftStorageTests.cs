using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Raft.Tests.Storage;

public class WalRaftStorageTests
{
    private static readonly WalOptions SmallSegments = new() { SegmentBytes = 4096, Preallocate = false };

    private static LogEntry Entry(ulong index, ulong term, string text = "x") =>
        new(index, term, EntryKind.Normal, System.Text.Encoding.UTF8.GetBytes(text + index));

    private static Task<WalRaftStorage> Open(SimFileSystem fs) => WalRaftStorage.OpenAsync(fs, "raft/g", SmallSegments).AsTask();

    [Fact]
    public async Task SyncedEntriesAndHardStateSurviveACrashAndUnsyncedOnesDoNot()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 2)]);
        await storage.SaveHardStateAsync(new HardState(2, new NodeId(3), 2));
        await storage.SyncAsync();
        await storage.AppendAsync([Entry(4, 2)]);
        fs.Crash(new Random(1));

        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(new HardState(2, new NodeId(3), 2), state.HardState);
        Assert.Equal([1UL, 2UL, 3UL], state.Entries.Take(3).Select(e => e.Index));
        Assert.Equal("x3", System.Text.Encoding.UTF8.GetString(state.Entries[2].Data.Span));
    }

    [Fact]
    public async Task MemberWhoseHardStateCommitsMoreThanItsLogHoldsRefusesToOpen()
    {
        // A restored or damaged directory: the hard state says 10 entries were committed, the log holds 5.
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 1), Entry(4, 1), Entry(5, 1)]);
        await storage.SaveHardStateAsync(new HardState(1, new NodeId(1), 10));
        await storage.SyncAsync();
        await storage.DisposeAsync();

        var error = await Assert.ThrowsAsync<WalCorruptionException>(() => Open(fs));
        Assert.Equal("raft/g/wal", error.File);
        Assert.Contains("committed", error.Reason);
        Assert.Contains("lost acknowledged state", error.Reason);
        Assert.StartsWith("raft/g/wal: ", error.Message);
    }

    [Fact]
    public async Task CommitCoveredByTheSnapshotIsNotALoss()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 1)]);
        await storage.SaveHardStateAsync(new HardState(1, null, 3));
        await storage.SyncAsync();
        await storage.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(3, 1, [new NodeId(1)]), new byte[] { 7 }), discardLog: true);
        await storage.DisposeAsync();

        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(3UL, state.HardState.Commit);
        Assert.Equal(3UL, state.Snapshot!.Index);
    }

    [Fact]
    public async Task AppendingAtAnEarlierIndexReplacesTheSuffix()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 1)]);
        await storage.AppendAsync([Entry(2, 2, "y")]);
        await storage.SyncAsync();
        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal([(1UL, 1UL), (2UL, 2UL)], state.Entries.Select(e => (e.Index, e.Term)));
    }

    [Fact]
    public async Task ServiceSnapshotKeepsLaterEntriesAndTrimsTheLog()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        for (ulong i = 1; i <= 400; i++) await storage.AppendAsync([Entry(i, 1, new string('p', 40))]);
        await storage.SyncAsync();
        var before = storage.SizeBytes;
        await storage.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(390, 1, [new(1)]), new byte[] { 1, 2, 3 }), discardLog: false);
        Assert.True(storage.SizeBytes < before / 2, $"size {storage.SizeBytes} should shrink well below {before}");
        fs.Crash(new Random(2));
        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(390UL, state.Snapshot!.Index);
        Assert.Equal(new byte[] { 1, 2, 3 }, (await state.Snapshot.ReadAllAsync()).ToArray());
        Assert.Equal(Enumerable.Range(391, 10).Select(i => (ulong)i), state.Entries.Select(e => e.Index));
    }

    [Fact]
    public async Task InstalledSnapshotThatDoesNotMatchTheLogReplacesIt()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 1)]);
        await storage.SyncAsync();
        await storage.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(10, 3, [new(1)]), new byte[] { 9 }), discardLog: true);
        await storage.AppendAsync([Entry(11, 3)]);
        await storage.SyncAsync();
        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(10UL, state.Snapshot!.Index);
        Assert.Equal([11UL], state.Entries.Select(e => e.Index));
    }

    [Fact]
    public async Task CrashBetweenSnapshotFileAndWalMarkIsRepairedOnOpen()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 1)]);
        await storage.SyncAsync();
        // Only the snapshot file made it (as if the process died right after writing it), from a different history.
        var snapshot = new RaftSnapshot(new SnapshotMeta(5, 2, [new(1)]), new byte[] { 7 });
        await RaftSnapshotFile.WriteAsync(fs, "raft/g/snapshot", snapshot);
        fs.Crash(new Random(3));
        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(5UL, state.Snapshot!.Index);
        Assert.Empty(state.Entries); // the old entries 1..3 are not a continuation of that snapshot
    }

    /// <summary>400 entries, a service snapshot at 390 (the WAL compacted below it), a crash.</summary>
    private static async Task<SimFileSystem> CompactedStoreAsync(Action<WalRaftStorage>? before = null)
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        for (ulong i = 1; i <= 400; i++) await storage.AppendAsync([Entry(i, 1, new string('p', 40))]);
        await storage.SyncAsync();
        await storage.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(390, 1, [new(1)]), new byte[200]), discardLog: false);
        fs.Crash(new Random(4));
        return fs;
    }

    [Fact]
    public async Task AByteFlippedInTheMiddleOfTheSnapshotFileRefusesToOpen()
    {
        var fs = await CompactedStoreAsync();
        using (var file = fs.Open("raft/g/snapshot")) fs.Corrupt("raft/g/snapshot", file.Length / 2, 0x10);
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => Open(fs));
        Assert.Equal("raft/g/snapshot", e.File);
        Assert.Contains("checksum mismatch", e.Reason);
    }

    [Fact]
    public async Task ATruncatedSnapshotFileRefusesToOpenNamingTheFile()
    {
        var fs = await CompactedStoreAsync();
        using (var file = fs.Open("raft/g/snapshot")) file.SetLength(file.Length - 1);
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => Open(fs));
        Assert.StartsWith("raft/g/snapshot at byte", e.Message);
    }

    [Fact]
    public async Task ASnapshotFileDeletedAfterCompactionRefusesToOpen()
    {
        var fs = await CompactedStoreAsync();
        fs.Delete("raft/g/snapshot");
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => Open(fs));
        Assert.Contains("the WAL says the snapshot at index 390 term 1 is required", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public async Task ASnapshotFileOlderThanTheWalMarkRefusesToOpen()
    {
        var fs = await CompactedStoreAsync();
        await RaftSnapshotFile.WriteAsync(fs, "raft/g/snapshot", new RaftSnapshot(new SnapshotMeta(100, 1, [new(1)]), new byte[1]));
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => Open(fs));
        Assert.Contains("older index 100", e.Message);
    }

    [Fact]
    public async Task PowerLossAtAnyFsyncOfASnapshotSaveLeavesAStoreThatOpensWithTheOldOrTheNewSnapshot()
    {
        var (crashedRuns, completedRuns) = (0, 0);
        for (var seed = 1; seed <= 12; seed++)
        {
            for (var crashAt = 1; crashAt <= 8; crashAt++)
            {
                var random = new Random(seed * 100 + crashAt);
                var fs = new SimFileSystem();
                var storage = await Open(fs);
                for (ulong i = 1; i <= 300; i++) await storage.AppendAsync([Entry(i, 1, new string('p', 40))]);
                await storage.SyncAsync();
                await storage.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(100, 1, [new(1)]), new byte[] { 1 }), discardLog: false);

                // The power fails at the crashAt-th fsync (file or directory) of the next save: a crash inside an
                // fsync means it never happened, and of the operations before it a random prefix survives.
                var fsyncs = 0;
                fs.FlushDelay = _ =>
                {
                    if (++fsyncs != crashAt) return ValueTask.CompletedTask;
                    fs.Crash(random);
                    throw new IOException("simulated power loss");
                };
                var completed = false;
                try
                {
                    await storage.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(290, 1, [new(1)]), new byte[] { 2 }), discardLog: false);
                    completed = fsyncs < crashAt;
                }
                catch (IOException)
                {
                }
                fs.FlushDelay = null;
                if (completed) fs.Crash(random);
                if (completed) completedRuns++; else crashedRuns++;

                var state = await (await Open(fs)).LoadAsync(); // never refused: a crash is not damage
                var at = $"seed {seed}, crash at fsync {crashAt} (completed {completed})";
                Assert.True(state.Snapshot is { Index: 100 } or { Index: 290 }, $"{at}: snapshot {state.Snapshot?.Index}");
                Assert.True(!completed || state.Snapshot!.Index == 290, $"{at}: a completed save was lost");
                Assert.Equal(state.Snapshot!.Index == 290 ? [2] : new byte[] { 1 }, (await state.Snapshot.ReadAllAsync()).ToArray());
                Assert.Equal(Enumerable.Range((int)state.Snapshot.Index + 1, 300 - (int)state.Snapshot.Index).Select(i => (ulong)i), state.Entries.Select(e => e.Index));
            }
        }
        Assert.True(crashedRuns > 0 && completedRuns > 0, $"{crashedRuns} crashed and {completedRuns} completed saves: the crash points must cover both");
    }
}
