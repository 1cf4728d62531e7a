namespace Flotilla.Simulation.Storage;

/// <summary>
/// One simulated file's bytes: a durable image plus the operations not yet fsynced. Reads see the durable image
/// with the pending operations laid over it, so an fsync costs only the bytes written since the last one.
/// </summary>
internal sealed class Inode
{
    private byte[] _durable = [];
    private long _durableLength;
    private readonly List<DataOp> _pending = [];

    public long Length { get; private set; }

    public int PendingCount => _pending.Count;

    public int Read(long offset, Span<byte> buffer)
    {
        if (offset >= Length) return 0;
        var count = (int)Math.Min(buffer.Length, Length - offset);
        var target = buffer[..count];
        // Start from the durable image, clipped to what existed then; beyond it the file reads as zeros.
        target.Clear();
        if (offset < _durableLength)
        {
            var n = (int)Math.Min(count, _durableLength - offset);
            _durable.AsSpan((int)offset, n).CopyTo(target);
        }
        // Replay pending operations over the window, in order.
        var length = _durableLength;
        foreach (var op in _pending)
        {
            if (op.Data is null)
            {
                // Truncation zeroes whatever lay beyond the new end inside our window.
                if (op.Offset < length)
                {
                    var from = Math.Max(op.Offset, offset);
                    var to = Math.Min(length, offset + count);
                    if (from < to) target.Slice((int)(from - offset), (int)(to - from)).Clear();
                }
                length = op.Offset;
                continue;
            }
            var start = Math.Max(op.Offset, offset);
            var end = Math.Min(op.Offset + op.Data.Length, offset + count);
            if (start < end) op.Data.AsSpan((int)(start - op.Offset), (int)(end - start)).CopyTo(target[(int)(start - offset)..]);
            length = Math.Max(length, op.Offset + op.Data.Length);
        }
        return count;
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset));
        _pending.Add(new DataOp(offset, data.ToArray()));
        Length = Math.Max(Length, offset + data.Length);
    }

    public void SetLength(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        _pending.Add(new DataOp(length, null));
        Length = length;
    }

    /// <summary>Makes the first <paramref name="count"/> pending operations durable.</summary>
    public void MakeDurable(int count)
    {
        for (var i = 0; i < count; i++) ApplyToDurable(_pending[i], _pending[i].Data?.Length ?? 0);
        _pending.RemoveRange(0, count);
    }

    /// <summary>Power loss: a random prefix of pending operations reaches the disk, the last maybe torn.</summary>
    public void Crash(Random random)
    {
        var survivors = random.Next(_pending.Count + 1);
        for (var i = 0; i < survivors; i++)
        {
            var op = _pending[i];
            var torn = i == survivors - 1 && op.Data is { Length: > 1 } && random.Next(2) == 0;
            ApplyToDurable(op, torn ? random.Next(1, op.Data!.Length) : op.Data?.Length ?? 0);
        }
        _pending.Clear();
        Length = _durableLength;
    }

    public void Corrupt(long offset, byte xorMask)
    {
        MakeDurable(_pending.Count);
        if (offset < 0 || offset >= _durableLength) throw new ArgumentOutOfRangeException(nameof(offset));
        _durable[offset] ^= xorMask;
    }

    private void ApplyToDurable(DataOp op, int bytes)
    {
        if (op.Data is null)
        {
            if (op.Offset < _durableLength) Array.Clear(_durable, (int)op.Offset, (int)(_durableLength - op.Offset));
            _durableLength = op.Offset;
            EnsureCapacity(_durableLength);
            return;
        }
        var end = op.Offset + bytes;
        EnsureCapacity(end);
        op.Data.AsSpan(0, bytes).CopyTo(_durable.AsSpan((int)op.Offset));
        _durableLength = Math.Max(_durableLength, end);
    }

    private void EnsureCapacity(long length)
    {
        if (length > Array.MaxLength) throw new IOException("simulated file too large");
        if (length <= _durable.Length) return;
        var capacity = Math.Max(length, Math.Min(Array.MaxLength, Math.Max(4096L, _durable.Length * 2L)));
        Array.Resize(ref _durable, (int)capacity);
    }

    private readonly record struct DataOp(long Offset, byte[]? Data);
}
