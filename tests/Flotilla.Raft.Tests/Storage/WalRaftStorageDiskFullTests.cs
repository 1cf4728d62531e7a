using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal;

namespace Flotilla.Raft.Tests.Storage;

/// <summary>WalRaftStorage on a full disk: a snapshot that does not fit leaves the old snapshot, the log and no temp
/// file behind; a leftover snapshot.tmp is deleted at open; a log that failed for lack of space is reopened on its
/// next use and keeps every synced entry.</summary>
public class WalRaftStorageDiskFullTests
{
    private static readonly WalOptions Wal = new() { SegmentBytes = 8192, Preallocate = true };

    private static LogEntry Entry(ulong index) => new(index, 1, EntryKind.Normal, new byte[600]);

    private static RaftSnapshot Snapshot(ulong index, int bytes) => new(new SnapshotMeta(index, 1, [new NodeId(1)]), new byte[bytes]);

    [Fact]
    public async Task ASnapshotThatDoesNotFitKeepsTheOldSnapshotAndTheWholeLog()
    {
        var disk = new SmallDisk(new SimFileSystem(), long.MaxValue);
        var storage = await WalRaftStorage.OpenAsync(disk, "raft/g", Wal);
        await storage.AppendAsync([.. Enumerable.Range(1, 6).Select(i => Entry((ulong)i))]);
        await storage.SyncAsync();
        await storage.SaveSnapshotAsync(Snapshot(2, 100), discardLog: false);
        disk.FillUp(headroomBytes: 1000);

        var full = await Assert.ThrowsAsync<WalDiskFullException>(async () => await storage.SaveSnapshotAsync(Snapshot(5, 50_000), discardLog: false));
        Assert.True(DiskFull.Is(full));
        Assert.StartsWith("disk full (raft/g/snapshot)", storage.SpaceProblem);
        Assert.False(disk.Exists("raft/g/snapshot.tmp"));
        await storage.DisposeAsync();

        disk.CapacityBytes = long.MaxValue;
        var reopened = await WalRaftStorage.OpenAsync(disk, "raft/g", Wal);
        var state = await reopened.LoadAsync();
        Assert.Equal(2UL, state.Snapshot!.Index);
        Assert.Equal([3UL, 4UL, 5UL, 6UL], state.Entries.Select(e => e.Index));
        await reopened.SaveSnapshotAsync(Snapshot(5, 50_000), discardLog: false);
        Assert.Null(reopened.SpaceProblem);
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task ALeftoverSnapshotTempFileIsDeletedAtOpen()
    {
        var disk = new SimFileSystem();
        await (await WalRaftStorage.OpenAsync(disk, "raft/g", Wal)).DisposeAsync();
        using (var temp = disk.Open("raft/g/snapshot.tmp")) await temp.WriteAsync(0, new byte[4096]); // half-written
        var storage = await WalRaftStorage.OpenAsync(disk, "raft/g", Wal);
        Assert.False(disk.Exists("raft/g/snapshot.tmp"));
        Assert.Null((await storage.LoadAsync()).Snapshot);
        await storage.DisposeAsync();
    }

    [Fact]
    public async Task ALogThatRanOutOfSpaceIsReopenedOnItsNextUseWithEverySyncedEntry()
    {
        var disk = new SmallDisk(new SimFileSystem(), long.MaxValue);
        var storage = await WalRaftStorage.OpenAsync(disk, "raft/g", Wal);
        await storage.AppendAsync([Entry(1)]);
        await storage.SyncAsync();
        disk.FillUp();
        ulong synced = 1;
        WalDiskFullException? full = null;
        for (ulong i = 2; i < 100 && full is null; i++)
        {
            try
            {
                await storage.AppendAsync([Entry(i)]);
                await storage.SyncAsync();
                synced = i;
            }
            catch (WalDiskFullException e) { full = e; }
        }
        Assert.NotNull(full);
        Assert.NotNull(storage.SpaceProblem);
        await storage.ProbeSpaceAsync(); // still full: no throw
        disk.CapacityBytes = long.MaxValue;
        // The driver retries the same batch: the entry after the last synced one.
        await storage.AppendAsync([Entry(synced + 1)]);
        await storage.SyncAsync();
        await storage.ProbeSpaceAsync();
        Assert.Null(storage.SpaceProblem);
        await storage.DisposeAsync();
        var state = await (await WalRaftStorage.OpenAsync(disk, "raft/g", Wal)).LoadAsync();
        Assert.Equal(Enumerable.Range(1, (int)synced + 1).Select(i => (ulong)i), state.Entries.Select(e => e.Index));
    }
}
