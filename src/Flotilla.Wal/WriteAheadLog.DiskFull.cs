using Flotilla.Runtime.Storage;

namespace Flotilla.Wal;

/// <summary>
/// A full disk, in two stages (docs/wal.md "Full disk").
/// <list type="number">
/// <item><b>Low on space</b>: the spare segment (the reserve the next rotation renames into place) could not be
/// zero-filled. The log keeps working inside its current segment, and <see cref="LowOnSpace"/> tells the owner to
/// stop taking new writes before the log runs out for real. <see cref="ProbeSpaceAsync"/> tries to build the whole
/// spare again; once it succeeds the reserve is back and the condition clears.</item>
/// <item><b>Out of space</b>: a batch's write (a new segment, its zero-fill, the manifest) failed with ENOSPC. The
/// batch was never acknowledged; the log fails with <see cref="WalDiskFullException"/> and the owner reopens it from
/// disk (which drops whatever of that batch reached the disk only partly) once there is space. A rotation that made
/// its new segment (from the spare) but found no room to replace the manifest is not a failure: the data is durable,
/// the manifest is left one segment behind (recovery accepts that), and the log is low on space until a probe
/// writes it.</item>
/// </list>
/// A failed fsync is neither: it poisons the log for good (<see cref="FlushWatchingFileSystem"/>).
/// </summary>
public sealed partial class WriteAheadLog
{
    private Exception? _lowOnSpace;
    private Segment? _manifestBehind;

    /// <summary>"disk full (DIR): ..." while the spare segment cannot be prepared (the log still works, but the next
    /// rotation may fail); null otherwise.</summary>
    public string? LowOnSpace
    {
        get { lock (_gate) return _lowOnSpace is { } e ? $"disk full ({_options.Directory}): {e.Message}" : null; }
    }

    /// <summary>The log failed for lack of space in a write (<see cref="WalDiskFullException"/>): nothing acknowledged is
    /// lost; reopen it to continue.</summary>
    public bool FailedForLackOfSpace
    {
        get { lock (_gate) return _failure is WalDiskFullException; }
    }

    private bool IsSpaceShortage(Exception e) => e is WalDiskFullException || (DiskFull.Is(e) && !_fs.FlushFailed);

    /// <summary>
    /// While <see cref="LowOnSpace"/>: tries to zero-fill a whole spare segment now; true (and the condition cleared)
    /// if that worked. Never throws for lack of space. Returns false without trying while a batch is being written
    /// (the flush loop owns the files then); call it again later.
    /// </summary>
    public async ValueTask<bool> ProbeSpaceAsync()
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_lowOnSpace is null || !_options.Preallocate) return true;
            if (_flushLoopRunning) return false;
            _flushLoopRunning = true; // keeps the flush loop (and so every other user of the spare) out meanwhile
        }
        var ok = false;
        try
        {
            var spareReady = false;
            while (!(spareReady = _spare is not null && _spareZeroedBytes >= _options.SegmentBytes))
            {
                if (!await TryPrepareSpareAsync(probing: true)) break;
                lock (_gate) if (_lowOnSpace is not null && _spare is null) break; // the chunk failed for lack of space
            }
            if (spareReady && _manifestBehind is { } behind) await WriteManifestAsync(behind);
            ok = spareReady && _manifestBehind is null;
        }
        finally
        {
            bool resume;
            lock (_gate)
            {
                if (ok) _lowOnSpace = null;
                resume = _next is not null && _failure is null;
                if (!resume) _flushLoopRunning = false;
            }
            if (resume) _ = RunFlushLoopAsync(); // a SyncAsync arrived meanwhile and found the loop "running"
        }
        return ok;
    }

    /// <summary>The spare could not be zero-filled for lack of space: give its blocks back, and report low space.</summary>
    private void DropSpare(Exception cause)
    {
        _spare?.Dispose();
        _spare = null;
        _spareZeroedBytes = 0;
        _spareFlush = null;
        try { _fs.Delete(SpareName(_options.Directory)); }
        catch (IOException) { /* recovery deletes a leftover spare */ }
        lock (_gate) _lowOnSpace = cause;
    }
}
