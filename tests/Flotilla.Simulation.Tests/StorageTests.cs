using Flotilla.Runtime;
using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;

namespace Flotilla.Simulation.Tests;

public class StorageTests
{
    private static async Task<byte[]> ReadAll(IFileSystem fs, string name) => await fs.ReadAllAsync(name);

    [Fact]
    public async Task SyncedWritesAlwaysSurviveACrash()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var fs = new SimFileSystem();
            var file = fs.Open("data");
            await fs.SyncDirectoryAsync();
            var synced = new List<byte>();
            var written = new List<byte>();
            for (var i = 0; i < 20; i++)
            {
                var chunk = new byte[random.Next(1, 100)];
                random.NextBytes(chunk);
                await file.WriteAsync(written.Count, chunk);
                written.AddRange(chunk);
                if (random.Next(3) == 0)
                {
                    await file.FlushAsync();
                    synced = [.. written];
                }
            }
            fs.Crash(random);
            var after = await ReadAll(fs, "data");
            // Everything synced is there, byte for byte; beyond it, only a prefix of what was written (maybe torn).
            Assert.True(after.Length >= synced.Count, $"seed {seed}: lost synced data ({after.Length} < {synced.Count})");
            Assert.Equal(written.Take(after.Length), after);
        }
    }

    [Fact]
    public async Task UnsyncedWritesCanBeLostOrTornOnCrash()
    {
        int lost = 0, torn = 0, kept = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var fs = new SimFileSystem();
            var file = fs.Open("data");
            await file.WriteAsync(0, new byte[100]);
            await file.FlushAsync();
            await fs.SyncDirectoryAsync();
            await file.WriteAsync(100, Enumerable.Repeat((byte)7, 100).ToArray());
            fs.Crash(new Random(seed));
            var length = fs.Open("data").Length;
            if (length == 100) lost++;
            else if (length == 200) kept++;
            else torn++;
        }
        Assert.True(lost > 0 && torn > 0 && kept > 0, $"lost {lost}, torn {torn}, kept {kept}");
    }

    [Fact]
    public async Task RenameIsDurableOnlyAfterDirectorySync()
    {
        int renameLost = 0, renameKept = 0;
        for (var seed = 0; seed < 100; seed++)
        {
            var fs = new SimFileSystem();
            await fs.WriteAtomicallyAsync("state", new byte[] { 1 });
            // Without a directory sync, the rename of a second version may or may not survive; either way the
            // file holds one whole version.
            using (var temp = fs.Open("state.tmp"))
            {
                await temp.WriteAsync(0, new byte[] { 2 });
                await temp.FlushAsync();
            }
            fs.Rename("state.tmp", "state");
            fs.Crash(new Random(seed));
            var value = (await ReadAll(fs, "state"))[0];
            Assert.Contains(value, new byte[] { 1, 2 });
            if (value == 1) renameLost++; else renameKept++;
        }
        Assert.True(renameLost > 0 && renameKept > 0);
    }

    [Fact]
    public async Task AtomicWriteLeavesOldOrNewContentsNeverAMix()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var fs = new SimFileSystem();
            await fs.WriteAtomicallyAsync("snap", Enumerable.Repeat((byte)1, 500).ToArray());
            var write = fs.WriteAtomicallyAsync("snap", Enumerable.Repeat((byte)2, 700).ToArray());
            Assert.True(write.IsCompleted); // standalone: no latency
            if (seed % 2 == 0) fs.Crash(new Random(seed));
            var after = await ReadAll(fs, "snap");
            Assert.True(after.SequenceEqual(Enumerable.Repeat((byte)2, 700)), $"seed {seed}: atomic write not durable");
        }
    }

    [Fact]
    public async Task FileNeverMadeDurableDisappearsOnCrash()
    {
        // The data is synced, but the directory entry never was: the whole file may vanish.
        var survived = 0;
        for (var seed = 0; seed < 50; seed++)
        {
            var fs = new SimFileSystem();
            var file = fs.Open("new");
            await file.WriteAsync(0, new byte[] { 1 });
            await file.FlushAsync();
            fs.Crash(new Random(seed));
            if (fs.Exists("new")) survived++;
        }
        Assert.InRange(survived, 1, 49);
    }

    [Fact]
    public void FsyncTakesVirtualTimeAndACrashDuringItLosesTheWrite()
    {
        var sim = new Simulator(3, new SimulationOptions { FsyncLatencyMin = TimeSpan.FromMilliseconds(5), FsyncLatencyMax = TimeSpan.FromMilliseconds(5) });
        var flushed = false;
        var node = sim.AddNode(new NodeId(1), n => n.Context.Post(async () =>
        {
            var file = n.Context.Storage.Open("f");
            await n.Context.Storage.SyncDirectoryAsync();
            await file.WriteAsync(0, new byte[] { 9 });
            await file.FlushAsync();
            flushed = true;
        }));
        sim.RunFor(TimeSpan.FromMilliseconds(7)); // the directory sync (5 ms) is done, the file fsync is not
        Assert.False(flushed);
        node.Crash();
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.False(flushed); // the crashed incarnation never resumes
        Assert.True(node.Storage.Exists("f"));
        Assert.True(node.Storage.Open("f").Length <= 1);
    }
}
