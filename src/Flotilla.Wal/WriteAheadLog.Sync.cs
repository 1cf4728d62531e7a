using Flotilla.Runtime.Storage;
using Flotilla.Wal.Format;

namespace Flotilla.Wal;

/// <summary>
/// Group commit. At most one flush is in flight. A caller whose operations are all in the in-flight batch waits
/// for it; any other caller joins the next batch, which starts as soon as the in-flight one completes and
/// carries everything staged by then: N callers arriving during one fsync cost one more fsync, not N.
/// </summary>
public sealed partial class WriteAheadLog
{
    private bool _flushLoopRunning;
    private TaskCompletionSource? _inflight;
    private long _inflightOps;
    private TaskCompletionSource? _next;

    /// <summary>Number of batches written (each one positional write per touched segment and one fsync).</summary>
    public long BatchCount { get; private set; }

    /// <summary>
    /// Writes everything staged and fsyncs. When it completes, every <see cref="Append"/>, <see cref="SaveState"/>
    /// and <see cref="MarkSnapshot"/> made before the call is durable. Cancelling stops the wait, not the flush.
    /// </summary>
    public ValueTask SyncAsync(CancellationToken ct = default)
    {
        Task wait;
        var startLoop = false;
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_stagedOps == _durableOps) return ValueTask.CompletedTask;
            if (_inflight is not null && _inflightOps >= _stagedOps)
            {
                wait = _inflight.Task;
            }
            else
            {
                _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _next.Task;
                startLoop = !_flushLoopRunning;
                _flushLoopRunning = true;
            }
        }
        if (startLoop) _ = RunFlushLoopAsync();
        return wait.IsCompleted && !wait.IsFaulted && !wait.IsCanceled ? ValueTask.CompletedTask : new ValueTask(wait.WaitAsync(ct));
    }

    /// <summary>Writes batches until nobody is waiting. Runs on the caller's scheduler; never throws (failures go to
    /// the waiters and poison the log).</summary>
    private async Task RunFlushLoopAsync()
    {
        while (true)
        {
            TaskCompletionSource batchDone;
            List<PendingWrite> batch;
            long batchOps;
            ulong batchSnapshotIndex;
            lock (_gate)
            {
                if (_next is null || _failure is not null)
                {
                    _flushLoopRunning = false;
                    return;
                }
                batchDone = _next;
                _next = null;
                batch = _staged;
                _staged = [];
                foreach (var pending in batch) pending.SealBatch();
                _stagedBytes = 0;
                batchOps = _stagedOps;
                batchSnapshotIndex = _model.SnapshotIndex;
                _inflight = batchDone;
                _inflightOps = batchOps;
            }
            try
            {
                await WriteBatchAsync(batch);
            }
            catch (Exception e)
            {
                Poison(e, batchDone);
                return;
            }
            finally
            {
                foreach (var pending in batch) pending.Dispose();
            }
            lock (_gate)
            {
                _durableOps = batchOps;
                _durableSnapshotIndex = batchSnapshotIndex;
                _inflight = null;
                BatchCount++;
                foreach (var pending in batch)
                {
                    var end = pending.FileOffset + pending.Length;
                    if (end > pending.Target.DurableEnd)
                    {
                        _sizeBytes += end - pending.Target.DurableEnd;
                        pending.Target.DurableEnd = end;
                    }
                }
            }
            batchDone.TrySetResult();
            if (!await TryPrepareSpareAsync()) return;
        }
    }

    /// <summary>A write or fsync failed: poison the log (every later call throws with the cause), end the flush loop,
    /// and fail the batch in flight (if any) and whoever waits for the next one.</summary>
    private void Poison(Exception e, TaskCompletionSource? inflight = null)
    {
        TaskCompletionSource? next;
        // Out of space in a write, and no fsync ever failed: nothing acknowledged is lost, the owner may reopen.
        if (IsSpaceShortage(e)) e = new WalDiskFullException(_options.Directory, e);
        lock (_gate)
        {
            _failure = e;
            _inflight = null;
            next = _next;
            _next = null;
            _flushLoopRunning = false;
        }
        inflight?.TrySetException(e);
        next?.TrySetException(e);
    }

    /// <summary>
    /// One positional write per segment touched, then fsync. Ordering that recovery relies on: a segment is fsynced
    /// before the next one is created, and a new segment's directory entry is synced before the batch completes,
    /// so a sealed segment is always complete and only the last segment can have a torn tail. After a rotation the
    /// manifest is replaced to name the new segment, once that segment and its first batch are durable and before
    /// the batch is acknowledged: from then on recovery refuses a log that does not reach it.
    /// </summary>
    private async Task WriteBatchAsync(List<PendingWrite> batch)
    {
        Segment? unflushed = null;
        Segment? created = null;
        var directoryDirty = false;
        foreach (var pending in batch)
        {
            var segment = pending.Target;
            if (pending.CreatesSegment)
            {
                if (unflushed is not null) await unflushed.File!.FlushAsync();
                unflushed = null;
                if (directoryDirty) await _fs.SyncDirectoryAsync();
                segment.File = await CreateSegmentFileAsync(segment, pending.Length);
                directoryDirty = true;
                created = segment;
            }
            await segment.File!.WriteAsync(pending.FileOffset, pending.Bytes);
            unflushed = segment;
        }
        if (unflushed is not null) await unflushed.File!.FlushAsync();
        if (directoryDirty) await _fs.SyncDirectoryAsync();
        if (created is not null) await WriteManifestAsync(created);
    }

    /// <summary>Names <paramref name="segment"/> (durable by now) in the manifest. Without space for the manifest's
    /// temp file the batch still completes: its data is durable, and recovery accepts an intact segment one beyond the
    /// manifest (the window docs/wal.md "What is and is not detected" describes). The log is then low on space;
    /// <see cref="ProbeSpaceAsync"/> (or the next rotation) writes the manifest once there is room.</summary>
    private async Task WriteManifestAsync(Segment segment)
    {
        try
        {
            await new Manifest(segment.Sequence, segment.FirstIndex).WriteAsync(_fs, _options.Directory);
            _manifestBehind = null;
        }
        catch (Exception e) when (DiskFull.Is(e) && !_fs.FlushFailed)
        {
            try { _fs.Delete(Manifest.FileName(_options.Directory) + ".tmp"); }
            catch (IOException) { /* recovery deletes a leftover temp manifest */ }
            _manifestBehind = segment;
            lock (_gate) _lowOnSpace ??= e;
        }
    }

    private static readonly byte[] Zeros = new byte[1 << 20];

    /// <summary>Writes real zeros (not a sparse SetLength) so the blocks are allocated now and later fsyncs carry
    /// only data.</summary>
    internal static async ValueTask ZeroFillAsync(Runtime.Storage.IStorageFile file, long from, long to)
    {
        for (var offset = from; offset < to; offset += Zeros.Length)
            await file.WriteAsync(offset, Zeros.AsMemory(0, (int)Math.Min(Zeros.Length, to - offset)));
    }
}
