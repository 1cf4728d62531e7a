using Flotilla.Runtime.Storage;

namespace Flotilla.Raft;

/// <summary>A read-only stream over a region of a storage file (a snapshot's data inside its file). It owns the file
/// handle. Synchronous reads wait on the asynchronous ones: prefer the async methods.</summary>
internal sealed class StorageFileReadStream(IStorageFile file, long start, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = Math.Clamp(value, 0, length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wanted = (int)Math.Min(buffer.Length, length - _position);
        if (wanted <= 0) return 0;
        var n = await file.ReadAsync(start + _position, buffer[..wanted], cancellationToken);
        if (n == 0) throw new IOException($"{file.Name} ends {length - _position} bytes before the snapshot data it should hold");
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) file.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A write-only stream appending to a storage file from <paramref name="start"/>, buffered so a service that
/// writes many small pieces makes few file writes. Synchronous writes wait on the asynchronous ones when the buffer
/// fills: prefer the async methods. Does not own the file.</summary>
internal sealed class StorageFileWriteStream(IStorageFile file, long start) : Stream
{
    private const int BufferBytes = 1 << 20;
    private readonly byte[] _buffer = new byte[BufferBytes];
    private int _buffered;

    /// <summary>Bytes written so far (buffered ones included).</summary>
    public long Written { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;

    public override long Position
    {
        get => Written;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            if (_buffered == 0 && data.Length >= BufferBytes)
            {
                // Large writes skip the buffer.
                await file.WriteAsync(start + Written, data, cancellationToken);
                Written += data.Length;
                return;
            }
            var n = Math.Min(data.Length, BufferBytes - _buffered);
            data[..n].CopyTo(_buffer.AsMemory(_buffered));
            _buffered += n;
            Written += n;
            data = data[n..];
            if (_buffered == BufferBytes) await FlushAsync(cancellationToken);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Hands the buffered bytes to the file (not durable: the snapshot writer fsyncs when it seals).</summary>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_buffered == 0) return;
        await file.WriteAsync(start + Written - _buffered, _buffer.AsMemory(0, _buffered), cancellationToken);
        _buffered = 0;
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
