using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;
using Flotilla.Kv.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Kv.Tests.Storage;

/// <summary>
/// The single-node store's recovery never rolls back acknowledged puts quietly: a damaged snapshot (the index field
/// included), a snapshot deleted after compaction, or one older than the WAL's mark makes it refuse to open; a
/// snapshot newer than the mark (the crash between writing it and marking the WAL) recovers every put.
/// </summary>
public sealed class KvSnapshotRecoveryTests
{
    private static readonly KvDurableLogOptions Options = new()
    {
        CompactAfterBytes = 1024,
        Wal = new WalOptions { Directory = "kv/wal", SegmentBytes = 4096, RecordBytesMax = 2048 },
    };

    private const string SnapshotName = "kv/snapshot";

    /// <summary>Puts k0..k(n-1) at version 1, each durable before the next; compaction runs along the way.</summary>
    private static async Task<SimFileSystem> StoreAsync(int puts)
    {
        var fs = new SimFileSystem();
        var log = await KvDurableLog.OpenAsync(fs, Options);
        for (var i = 0; i < puts; i++)
        {
            var put = new PutRequest { Key = $"k{i}", Value = new string('v', 60), Version = 0 };
            log.State.Apply(put);
            await log.WaitDurableAsync(log.Append(put));
        }
        await log.DisposeAsync();
        fs.Crash(new Random(1));
        return fs;
    }

    [Fact]
    public async Task EveryAcknowledgedPutIsRecoveredAfterCompaction()
    {
        var fs = await StoreAsync(60);
        Assert.True(fs.Exists(SnapshotName));
        var log = await KvDurableLog.OpenAsync(fs, Options);
        Assert.Equal(60, log.State.KeyCount);
        await log.DisposeAsync();
    }

    [Fact]
    public async Task AFlippedByteInTheSnapshotsIndexFieldRefusesToOpen()
    {
        var fs = await StoreAsync(60);
        fs.Corrupt(SnapshotName, 8, 0x08); // the low byte of the index: would skip or replay the wrong records
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => KvDurableLog.OpenAsync(fs, Options));
        Assert.Equal(SnapshotName, e.File);
        Assert.Contains("checksum mismatch", e.Reason);
    }

    [Fact]
    public async Task ASnapshotDeletedAfterCompactionRefusesToOpen()
    {
        var fs = await StoreAsync(60);
        fs.Delete(SnapshotName);
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => KvDurableLog.OpenAsync(fs, Options));
        Assert.Contains("missing, but the WAL says the snapshot at index", e.Message);
    }

    [Fact]
    public async Task ASnapshotOlderThanTheWalMarkRefusesToOpen()
    {
        var fs = await StoreAsync(60);
        await SnapshotFile.WriteAsync(fs, SnapshotName, SnapshotKind.KvStore, 1, 0, new KvStateMachine().Snapshot());
        var e = await Assert.ThrowsAsync<SnapshotCorruptionException>(() => KvDurableLog.OpenAsync(fs, Options));
        Assert.Contains("older index 1", e.Message);
    }

    [Fact]
    public async Task ASnapshotNewerThanTheWalMarkRecoversEveryPut()
    {
        // A crash right after the snapshot file was renamed into place, before the WAL mark: the file holds every put.
        var fs = new SimFileSystem();
        var log = await KvDurableLog.OpenAsync(fs, Options with { CompactAfterBytes = long.MaxValue });
        for (var i = 0; i < 10; i++)
        {
            var put = new PutRequest { Key = $"k{i}", Value = "v", Version = 0 };
            log.State.Apply(put);
            await log.WaitDurableAsync(log.Append(put));
        }
        await SnapshotFile.WriteAsync(fs, SnapshotName, SnapshotKind.KvStore, 10, 0, log.State.Snapshot());
        await log.DisposeAsync();
        fs.Crash(new Random(2));
        var reopened = await KvDurableLog.OpenAsync(fs, Options);
        Assert.Equal(10, reopened.State.KeyCount);
        Assert.Equal(0, reopened.Recovered.Replayed);
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task PowerLossAtAnyFsyncWhileCompactingNeverRefusesToOpenNorLosesAnAcknowledgedPut()
    {
        var crashedWithASnapshot = 0;
        for (var crashAt = 1; crashAt <= 80; crashAt++)
        {
            var random = new Random(crashAt);
            var fs = new SimFileSystem();
            var log = await KvDurableLog.OpenAsync(fs, Options);
            // The power fails at the crashAt-th fsync (file or directory: WAL syncs, snapshot writes, compactions).
            var fsyncs = 0;
            fs.FlushDelay = _ =>
            {
                if (++fsyncs != crashAt) return ValueTask.CompletedTask;
                fs.Crash(random);
                throw new IOException("simulated power loss");
            };
            var acknowledged = 0;
            try
            {
                for (var i = 0; i < 40; i++)
                {
                    var put = new PutRequest { Key = $"k{i}", Value = new string('v', 60), Version = 0 };
                    log.State.Apply(put);
                    await log.WaitDurableAsync(log.Append(put));
                    acknowledged++;
                }
            }
            catch (IOException)
            {
            }
            fs.FlushDelay = null;
            if (fsyncs < crashAt) fs.Crash(random);
            else if (fs.Exists(SnapshotName)) crashedWithASnapshot++;

            var reopened = await KvDurableLog.OpenAsync(fs, Options); // a crash is not damage: never refused
            for (var i = 0; i < acknowledged; i++)
                Assert.True(reopened.State.Get($"k{i}").Version == 1, $"crash at fsync {crashAt}: acknowledged k{i} was lost");
            await reopened.DisposeAsync();
        }
        Assert.True(crashedWithASnapshot > 10, $"only {crashedWithASnapshot} crashes came after a compaction");
    }
}
