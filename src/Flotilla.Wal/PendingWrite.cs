using System.Buffers;

namespace Flotilla.Wal;

/// <summary>
/// Bytes staged for one contiguous region of one segment: the flush loop turns each into a single positional
/// write. A batch has one per segment it touches (usually one; two when it crosses into a new segment).
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
