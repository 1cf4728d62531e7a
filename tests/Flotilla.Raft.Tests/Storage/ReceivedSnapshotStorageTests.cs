using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Simulation.Storage;
using Flotilla.Wal;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Raft.Tests.Storage;

/// <summary>A snapshot received from the leader goes to disk chunk by chunk and becomes the group's snapshot file on
/// install; a leader reads what it sends from its snapshot file.</summary>
public class ReceivedSnapshotStorageTests
{
    private static readonly WalOptions SmallSegments = new() { SegmentBytes = 4096, Preallocate = false };
    private static readonly NodeId[] Voters = [new(1), new(2), new(3)];

    private static Task<WalRaftStorage> Open(SimFileSystem fs) => WalRaftStorage.OpenAsync(fs, "raft/g", SmallSegments).AsTask();

    private static byte[] Data(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static LogEntry Entry(ulong index, ulong term) => new(index, term, EntryKind.Normal, new byte[] { (byte)index });

    private static async Task ReceiveAsync(WalRaftStorage storage, SnapshotMeta meta, byte[] data, int chunk)
    {
        for (var offset = 0; offset < data.Length; offset += chunk)
            await storage.WriteReceivedSnapshotChunkAsync(meta, offset, data.AsMemory(offset, Math.Min(chunk, data.Length - offset)));
    }

    [Fact]
    public async Task ChunksGoToDiskAsTheyArriveAndTheInstalledFileIsAVerifiedSnapshotThatReplacesTheLog()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 1)]); // a stale log the snapshot supersedes
        await storage.SyncAsync();
        var meta = new SnapshotMeta(40, 3, Voters);
        var data = Data(10_000, 1);

        await storage.WriteReceivedSnapshotChunkAsync(meta, 0, data.AsMemory(0, 4000));
        var incoming = RaftSnapshotFile.NameIn("raft/g") + ".incoming";
        Assert.True(fs.Exists(incoming));
        var afterOne = fs.Open(incoming, create: false).Length;
        Assert.True(afterOne >= 4000, $"the first chunk is on disk ({afterOne} bytes)");
        await storage.WriteReceivedSnapshotChunkAsync(meta, 4000, data.AsMemory(4000, 4000));
        await storage.WriteReceivedSnapshotChunkAsync(meta, 4000, data.AsMemory(4000, 4000)); // a retried batch rewrites
        await storage.WriteReceivedSnapshotChunkAsync(meta, 8000, data.AsMemory(8000));
        Assert.Equal(afterOne + 6000, fs.Open(incoming, create: false).Length);

        var installed = await storage.InstallReceivedSnapshotAsync(meta);
        Assert.Equal(meta, installed.Meta);
        Assert.Equal(data, (await installed.ReadAllAsync()).ToArray());
        Assert.False(fs.Exists(incoming));

        // The file is a snapshot file like any other: checksummed, with the membership, readable after a crash.
        var read = await RaftSnapshotFile.ReadAsync(fs, RaftSnapshotFile.NameIn("raft/g"));
        Assert.NotNull(read);
        Assert.Equal(meta, read.Value.Snapshot.Meta);
        Assert.Equal(data, read.Value.Snapshot.Data.ToArray());
        fs.Crash(new Random(2));
        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(40UL, state.Snapshot!.Index);
        Assert.Equal(data, (await state.Snapshot.ReadAllAsync()).ToArray());
        Assert.Empty(state.Entries);
    }

    [Fact]
    public async Task AJointMembershipSurvivesTheStreamedFormat()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        var membership = new MembershipConfig(new JointConfig(new MajorityConfig(Voters), MajorityConfig.Empty), learners: [new NodeId(4)]);
        var meta = new SnapshotMeta(9, 2, membership);
        await ReceiveAsync(storage, meta, Data(300, 3), 100);
        await storage.InstallReceivedSnapshotAsync(meta);
        await storage.DisposeAsync();
        var state = await (await Open(fs)).LoadAsync();
        Assert.Equal(membership, state.Snapshot!.Meta.Membership);
    }

    [Fact]
    public async Task AnInterruptedTransferLeavesTheOldSnapshotAndIsCleanedUpOnOpen()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        var old = new SnapshotMeta(5, 1, Voters);
        await ReceiveAsync(storage, old, Data(500, 4), 200);
        await storage.InstallReceivedSnapshotAsync(old);
        await ReceiveAsync(storage, new SnapshotMeta(50, 2, Voters), Data(5000, 5).AsSpan(0, 3000).ToArray(), 1000);
        fs.Crash(new Random(6)); // mid-transfer

        var reopened = await Open(fs);
        Assert.False(fs.Exists(RaftSnapshotFile.NameIn("raft/g") + ".incoming"));
        var state = await reopened.LoadAsync();
        Assert.Equal(5UL, state.Snapshot!.Index);
        Assert.Equal(Data(500, 4), (await state.Snapshot.ReadAllAsync()).ToArray());
    }

    [Fact]
    public async Task ALeaderReadsChunksOfItsOwnSnapshotFromTheFile()
    {
        var fs = new SimFileSystem();
        var storage = await Open(fs);
        await storage.AppendAsync([Entry(1, 1), Entry(2, 1), Entry(3, 1)]);
        await storage.SyncAsync();
        var data = Data(3000, 7);
        await storage.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(3, 1, Voters), data), discardLog: false);

        var buffer = new byte[1000];
        Assert.Equal(1000, await storage.ReadSnapshotDataAsync(3, 1500, buffer));
        Assert.Equal(data.AsSpan(1500, 1000).ToArray(), buffer);
        Assert.Equal(500, await storage.ReadSnapshotDataAsync(3, 2500, buffer)); // the end
        Assert.Equal(0, await storage.ReadSnapshotDataAsync(3, 3000, buffer));
        Assert.Equal(0, await storage.ReadSnapshotDataAsync(2, 0, buffer)); // not the snapshot it holds

        // After a restart, from the file it recovered.
        await storage.DisposeAsync();
        var reopened = await Open(fs);
        Assert.Equal(1000, await reopened.ReadSnapshotDataAsync(3, 0, buffer));
        Assert.Equal(data.AsSpan(0, 1000).ToArray(), buffer);
    }

    [Fact]
    public async Task SnapshotChunksMoveASnapshotFromOneStorageToAnotherThroughTheDriversPlumbing()
    {
        var leaderFs = new SimFileSystem();
        var leader = await Open(leaderFs);
        await leader.AppendAsync([Entry(1, 1), Entry(2, 1)]);
        await leader.SyncAsync();
        var data = Data(2500, 8);
        var meta = new SnapshotMeta(2, 1, Voters);
        await leader.SaveSnapshotAsync(new RaftSnapshot(meta, data), discardLog: false);
        var follower = await Open(new SimFileSystem());

        for (var offset = 0; offset < data.Length; offset += 1000)
        {
            var length = Math.Min(1000, data.Length - offset);
            var chunk = new Message { Type = MessageType.Snapshot, From = new NodeId(1), To = new NodeId(2), SnapshotMeta = meta, SnapshotOffset = (ulong)offset, SnapshotLength = length, SnapshotDone = offset + length == data.Length };
            var filled = await SnapshotChunks.FillAsync(leader, chunk);
            Assert.NotNull(filled);
            Assert.Equal(length, filled.SnapshotData.Length);
            await follower.WriteReceivedSnapshotChunkAsync(meta, offset, filled.SnapshotData);
        }
        Assert.Equal(data, (await (await follower.InstallReceivedSnapshotAsync(meta)).ReadAllAsync()).ToArray());

        // A chunk of a snapshot the leader no longer holds is dropped, not filled with the wrong bytes.
        await leader.AppendAsync([Entry(3, 1)]);
        await leader.SyncAsync();
        await leader.SaveSnapshotAsync(new RaftSnapshot(new SnapshotMeta(3, 1, Voters), Data(10, 9)), discardLog: false);
        Assert.Null(await SnapshotChunks.FillAsync(leader, new Message { Type = MessageType.Snapshot, From = new NodeId(1), To = new NodeId(2), SnapshotMeta = meta, SnapshotLength = 100 }));
    }
}
