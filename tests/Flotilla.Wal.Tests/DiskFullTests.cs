using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

/// <summary>
/// A full disk (docs/wal.md "Full disk"): losing the spare is only "low on space" (the log keeps working and a probe
/// brings the reserve back); a rotation without space fails the batch recoverably (WalDiskFullException, reopen keeps
/// every acknowledged entry); a failed fsync stays fatal, even one that says ENOSPC.
/// </summary>
public sealed class DiskFullTests
{
    private static readonly WalOptions Options = new() { SegmentBytes = 16 * 1024, Preallocate = true };

    private static WalEntry Entry(ulong index) => new(index, 1, WalAssert.Bytes((int)index, 900));

    /// <summary>Appends and syncs one entry at a time until a sync fails or <paramref name="until"/> holds; returns the
    /// last acknowledged index.</summary>
    private static async Task<(ulong Acknowledged, Exception? Failure)> WriteAsync(WriteAheadLog log, ulong from, int count, Func<bool>? until = null)
    {
        var acknowledged = from - 1;
        for (var i = from; i < from + (ulong)count; i++)
        {
            if (until?.Invoke() == true) break;
            try
            {
                log.Append(Entry(i));
                await log.SyncAsync();
                acknowledged = i;
            }
            catch (IOException e) { return (acknowledged, e); }
        }
        return (acknowledged, null);
    }

    [Fact]
    public async Task WithoutRoomForTheSpareTheLogKeepsWorkingLowOnSpaceUntilAProbeFindsRoom()
    {
        var disk = new SmallDisk(new SimFileSystem(), long.MaxValue);
        var (log, _) = await WriteAheadLog.OpenAsync(disk, Options);
        await using var _2 = log;
        var (acknowledged, failure) = await WriteAsync(log, 1, 2);
        Assert.Null(failure);
        disk.FillUp(); // the spare is ready: the next rotation needs no new space, the spare after it does

        (acknowledged, failure) = await WriteAsync(log, acknowledged + 1, 100, () => log.LowOnSpace is not null);
        Assert.Null(failure);
        Assert.StartsWith("disk full (wal): ", log.LowOnSpace);
        Assert.Equal(1, log.SpareSegmentsUsed);
        Assert.False(log.FailedForLackOfSpace);
        Assert.False(disk.Exists("wal/spare.tmp")); // its blocks were given back

        // Still writable inside the current segment, and a probe without space changes nothing.
        (acknowledged, failure) = await WriteAsync(log, acknowledged + 1, 3);
        Assert.Null(failure);
        Assert.False(await log.ProbeSpaceAsync());
        Assert.NotNull(log.LowOnSpace);

        disk.CapacityBytes = long.MaxValue;
        Assert.True(await log.ProbeSpaceAsync());
        Assert.Null(log.LowOnSpace);
        Assert.True(disk.Exists("wal/spare.tmp"));
        (acknowledged, failure) = await WriteAsync(log, acknowledged + 1, 40);
        Assert.Null(failure);
        Assert.True(log.SpareSegmentsUsed >= 2, $"{log.SpareSegmentsUsed} segments from a spare"); // the probe's spare was used
        await log.DisposeAsync();

        var (reopened, recovery) = await WriteAheadLog.OpenAsync(disk, Options);
        await reopened.DisposeAsync();
        Assert.Equal(Enumerable.Range(1, (int)acknowledged).Select(i => (ulong)i), recovery.Entries.Select(e => e.Index));
    }

    [Fact]
    public async Task ARotationWithoutSpaceFailsRecoverablyAndReopeningKeepsEveryAcknowledgedEntry()
    {
        var disk = new SmallDisk(new SimFileSystem(), long.MaxValue);
        var (log, _) = await WriteAheadLog.OpenAsync(disk, Options);
        var (acknowledged, failure) = await WriteAsync(log, 1, 2);
        Assert.Null(failure);
        disk.FillUp();
        (acknowledged, failure) = await WriteAsync(log, acknowledged + 1, 200);
        var full = Assert.IsType<WalDiskFullException>(failure);
        Assert.True(DiskFull.Is(full));
        Assert.StartsWith("disk full (wal): ", full.Message);
        Assert.True(log.FailedForLackOfSpace);
        Assert.Throws<WalDiskFullException>(() => log.Append(Entry(acknowledged + 2)));
        await log.DisposeAsync(); // a failed log closes without trying to sync (and without hanging)

        // Reopening on the still-full disk works (reads must go on): the half-made segment is deleted.
        var (stillFull, recovery) = await WriteAheadLog.OpenAsync(disk, Options);
        Assert.True(recovery.Entries.Count >= (int)acknowledged);
        Assert.Equal(Enumerable.Range(1, (int)acknowledged).Select(i => (ulong)i), recovery.Entries.Take((int)acknowledged).Select(e => e.Index));
        await stillFull.DisposeAsync();

        disk.CapacityBytes = long.MaxValue;
        var (again, afterSpace) = await WriteAheadLog.OpenAsync(disk, Options);
        await using var _2 = again;
        // The failed batch's first part may have reached the old segment durably (never acknowledged, harmless):
        // the next append at that index overwrites it, as Raft's conflict rule does.
        Assert.True(afterSpace.Entries[^1].Index >= acknowledged);
        (var resumed, failure) = await WriteAsync(again, acknowledged + 1, 30);
        Assert.Null(failure);
        await again.DisposeAsync();
        var (_, final) = await WriteAheadLog.OpenAsync(disk, Options);
        Assert.Equal(Enumerable.Range(1, (int)resumed).Select(i => (ulong)i), final.Entries.Select(e => e.Index));
        Assert.Equal(WalAssert.Bytes((int)acknowledged + 1, 900), final.Entries[(int)acknowledged].Data.ToArray());
    }

    [Theory]
    [InlineData(5)]  // EIO
    [InlineData(28)] // ENOSPC reported by fsync (NFS, thin provisioning): the kernel may have dropped the pages
    public async Task AFailedFsyncStaysFatalWhateverItsErrno(int errno)
    {
        var disk = new SmallDisk(new SimFileSystem(), long.MaxValue);
        var (log, _) = await WriteAheadLog.OpenAsync(disk, Options);
        log.Append(Entry(1));
        disk.FlushErrno = errno;
        var error = await Assert.ThrowsAnyAsync<IOException>(async () => await log.SyncAsync());
        Assert.IsNotType<WalDiskFullException>(error);
        Assert.False(log.FailedForLackOfSpace);
        var later = Assert.Throws<IOException>(() => log.Append(Entry(2)));
        Assert.IsNotType<WalDiskFullException>(later);
        await log.DisposeAsync();
    }
}
