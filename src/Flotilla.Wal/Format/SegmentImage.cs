using System.Buffers;
using Flotilla.Runtime.Storage;

namespace Flotilla.Wal.Format;

/// <summary>A whole segment file read into a pooled buffer (recovery scans it several ways).</summary>
internal sealed class SegmentImage : IDisposable
{
    private byte[] _buffer;

    private SegmentImage(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public static async ValueTask<SegmentImage> ReadAsync(IStorageFile file, CancellationToken ct)
    {
        var length = file.Length;
        if (length > Array.MaxLength) throw new WalCorruptionException(file.Name, 0, $"segment of {length} bytes is larger than any segment this log writes");
        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        var read = 0;
        try
        {
            while (read < length)
            {
                var n = await file.ReadAsync(read, buffer.AsMemory(read, (int)length - read), ct);
                if (n == 0) break;
                read += n;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        return new SegmentImage(buffer, read);
    }

    public void Dispose()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
