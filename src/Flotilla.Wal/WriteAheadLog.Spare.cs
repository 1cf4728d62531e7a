using Flotilla.Runtime.Storage;

namespace Flotilla.Wal;

/// <summary>
/// Preallocation off the critical path (as etcd's file pipeline does): after each batch has been acknowledged, the
/// flush loop zero-fills a little more of a spare file (<c>spare.tmp</c>), never fsyncing it, so the kernel writes
/// it back in the background. Rotation renames the finished spare to the new segment's name instead of writing
/// 64 MiB of zeros while callers wait. The spare is never read: a crash at any point leaves either a leftover
/// spare (deleted by recovery) or a segment without a valid header (also deleted by recovery).
/// <para>Once the spare is complete it is fsynced in the background (nobody waits for it). Without that, the new
/// segment's first fsync after rotation would also have to write out whatever of the zeros the kernel had not
/// written back yet (up to a whole segment: tens of milliseconds for every waiter of that batch).</para>
/// </summary>
public sealed partial class WriteAheadLog
{
    private const int SpareChunkBytes = 1 << 20;
    private IStorageFile? _spare;
    private long _spareZeroedBytes;
    private Task<bool>? _spareFlush;

    internal static string SpareName(string directory) => directory + "/spare.tmp";

    /// <summary>Number of segments that were created from a prepared spare (for tests).</summary>
    public long SpareSegmentsUsed { get; private set; }

    private async ValueTask<IStorageFile> CreateSegmentFileAsync(Segment segment, long bytesAboutToBeWritten)
    {
        if (_options.Preallocate && _spare is { } spare && _spareZeroedBytes >= _options.SegmentBytes)
        {
            // Usually long done; if not, waiting here costs what the segment's first fsync would have cost anyway.
            var flushed = _spareFlush is { } flush && await flush;
            _spare = null;
            _spareZeroedBytes = 0;
            _spareFlush = null;
            if (flushed)
            {
                _fs.Rename(SpareName(_options.Directory), segment.Name);
                SpareSegmentsUsed++;
                return spare;
            }
            // The spare could not be made durable: leave it (recovery deletes a leftover spare) and zero-fill afresh.
            spare.Dispose();
        }
        var file = _fs.Open(segment.Name, create: true);
        try
        {
            if (_options.Preallocate) await ZeroFillAsync(file, bytesAboutToBeWritten, _options.SegmentBytes);
        }
        catch
        {
            // Out of space, typically. The half-filled file has no header: recovery deletes it on the next open.
            file.Dispose();
            throw;
        }
        return file;
    }

    /// <summary>Writes the finished spare's zeros out; false if that failed (or the log closed meanwhile). Never throws.</summary>
    private static async Task<bool> FlushSpareAsync(IStorageFile spare)
    {
        try
        {
            await spare.FlushAsync();
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Zero-fills the next chunk of the spare. Runs in the flush loop after a batch is acknowledged; false
    /// (and the log poisoned) if the I/O failed for another reason than a full disk.</summary>
    private async ValueTask<bool> TryPrepareSpareAsync(bool probing = false)
    {
        if (!_options.Preallocate || (_spare is not null && _spareZeroedBytes >= _options.SegmentBytes)) return true;
        lock (_gate) if (_lowOnSpace is not null && !probing) return true; // only ProbeSpaceAsync retries a full disk
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
            if (_spareZeroedBytes >= _options.SegmentBytes) _spareFlush = FlushSpareAsync(_spare);
            return true;
        }
        catch (Exception e) when (IsSpaceShortage(e))
        {
            // Not fatal: everything acknowledged is on disk and the current segment still has room. The owner learns
            // it from LowOnSpace and stops taking new writes until ProbeSpaceAsync finds space for a whole spare.
            DropSpare(e);
            return true;
        }
        catch (Exception e)
        {
            Poison(e);
            return false;
        }
    }
}
