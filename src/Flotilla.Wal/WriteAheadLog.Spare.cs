using Flotilla.Runtime.Storage;

namespace Flotilla.Wal;

/// <summary>
/// Preallocation off the critical path (as etcd's file pipeline does): after each batch has been acknowledged, the
/// flush loop zero-fills a little more of a spare file (<c>spare.tmp</c>), never fsyncing it, so the kernel writes
/// it back in the background. Rotation renames the finished spare to the new segment's name instead of writing
/// 64 MiB of zeros while callers wait. The spare is never read: a crash at any point leaves either a leftover
/// spare (deleted by recovery) or a segment without a valid header (also deleted by recovery).
/// </summary>
public sealed partial class WriteAheadLog
{
    private const int SpareChunkBytes = 1 << 20;
    private IStorageFile? _spare;
    private long _spareZeroedBytes;

    internal static string SpareName(string directory) => directory + "/spare.tmp";

    /// <summary>Number of segments that were created from a prepared spare (for tests).</summary>
    public long SpareSegmentsUsed { get; private set; }

    private async ValueTask<IStorageFile> CreateSegmentFileAsync(Segment segment, long bytesAboutToBeWritten)
    {
        if (_options.Preallocate && _spare is { } spare && _spareZeroedBytes >= _options.SegmentBytes)
        {
            _spare = null;
            _spareZeroedBytes = 0;
            _fs.Rename(SpareName(_options.Directory), segment.Name);
            SpareSegmentsUsed++;
            return spare;
        }
        var file = _fs.Open(segment.Name, create: true);
        if (_options.Preallocate) await ZeroFillAsync(file, bytesAboutToBeWritten, _options.SegmentBytes);
        return file;
    }

    /// <summary>Zero-fills the next chunk of the spare. Runs in the flush loop after a batch is acknowledged; false
    /// (and the log poisoned) if the I/O failed.</summary>
    private async ValueTask<bool> TryPrepareSpareAsync()
    {
        if (!_options.Preallocate || (_spare is not null && _spareZeroedBytes >= _options.SegmentBytes)) return true;
        try
        {
            if (_spare is null)
            {
                _spare = _fs.Open(SpareName(_options.Directory), create: true);
                _spare.SetLength(0);
                _spareZeroedBytes = 0;
            }
            var chunk = (int)Math.Min(SpareChunkBytes, _options.SegmentBytes - _spareZeroedBytes);
            await _spare.WriteAsync(_spareZeroedBytes, Zeros.AsMemory(0, chunk));
            _spareZeroedBytes += chunk;
            return true;
        }
        catch (Exception e)
        {
            TaskCompletionSource? next;
            lock (_gate)
            {
                _failure = e;
                next = _next;
                _next = null;
                _flushLoopRunning = false;
            }
            next?.TrySetException(e);
            return false;
        }
    }
}
