using System.Buffers;
using Flotilla.Wal.Format;

namespace Flotilla.Wal;

/// <summary>
/// Bytes staged for one contiguous region of one segment: the flush loop turns each into a single positional
/// write. A batch has one per segment it touches (usually one; two when it crosses into a new segment).
/// Each write opens with a batch record (after the segment header, for a new segment) that the flush loop fills in
/// once the write is complete: how many bytes and records follow, and their entry index range. Recovery uses it to
/// tell a torn last write from damage, and to report exactly what a dropped torn write held.
/// The buffer comes from <see cref="ArrayPool{T}"/> and goes back after the write.
/// </summary>
internal sealed class PendingWrite(Segment target, long fileOffset, bool createsSegment) : IDisposable
{
    private const int InitialBytes = 4096;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);

    public Segment Target { get; } = target;
    public long FileOffset { get; } = fileOffset;

    /// <summary>The flush loop must create (and preallocate) the file before writing.</summary>
    public bool CreatesSegment { get; } = createsSegment;

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(0, Length);

    /// <summary>Size of a batch record on disk.</summary>
    public static readonly int BatchRecordBytes = RecordFrame.AlignedSize(RecordFrame.FrameBytes(Payloads.BatchBytes));

    private int _batchAt = -1;
    private int _records;
    private ulong _minIndex;
    private ulong _maxIndex;

    /// <summary>Reserves the batch record here; records reserved after it are counted in it.</summary>
    public Span<byte> BeginBatch()
    {
        _batchAt = Length;
        return Reserve(BatchRecordBytes);
    }

    /// <summary>Counts one record of the batch (<paramref name="entryIndex"/> 0 for a non-entry record).</summary>
    public void CountRecord(ulong entryIndex)
    {
        if (_batchAt < 0) return;
        _records++;
        if (entryIndex == 0) return;
        _minIndex = _minIndex == 0 ? entryIndex : Math.Min(_minIndex, entryIndex);
        _maxIndex = Math.Max(_maxIndex, entryIndex);
    }

    /// <summary>Writes the batch record now that nothing more will be staged into this write.</summary>
    public void SealBatch()
    {
        if (_batchAt < 0) return;
        var frame = _buffer.AsSpan(_batchAt, BatchRecordBytes);
        var bodyBytes = Length - _batchAt - BatchRecordBytes;
        Payloads.WriteBatch(frame[RecordFrame.HeaderBytes..], bodyBytes, _records, _minIndex, _maxIndex);
        RecordFrame.Seal(frame, RecordType.Batch, Payloads.BatchBytes);
    }

    public Span<byte> Reserve(int bytes)
    {
        if (Length + bytes > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max((long)Length + bytes, 2L * _buffer.Length)));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var span = _buffer.AsSpan(Length, bytes);
        Length += bytes;
        return span;
    }

    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
