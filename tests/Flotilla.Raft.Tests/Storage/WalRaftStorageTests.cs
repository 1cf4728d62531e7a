using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal;

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
        Assert.Equal(new byte[] { 1, 2, 3 }, state.Snapshot.Data.ToArray());
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
        await fs.WriteAtomicallyAsync("raft/g/snapshot", StateCodec.EncodeSnapshot(snapshot));
        fs.Crash(new Random(3));
        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(5UL, state.Snapshot!.Index);
        Assert.Empty(state.Entries); // the old entries 1..3 are not a continuation of that snapshot
    }
}
