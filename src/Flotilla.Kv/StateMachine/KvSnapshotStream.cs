using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Flotilla.Kv.StateMachine;

/// <summary>
/// <see cref="KvSnapshotCodec"/>'s format written to and read from a stream in blocks, so a store larger than memory
/// can hold twice is snapshotted and restored without building the whole byte array (the replicated KV's snapshots go
/// straight to and from the snapshot file).
/// </summary>
public static class KvSnapshotStream
{
    private const int BlockBytes = 1 << 20;

    public static async ValueTask WriteAsync(Stream output, IEnumerable<(string Key, string Value, ulong Version)> entries, int count, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(BlockBytes + 4096);
        KvSnapshotCodec.WriteCount(buffer, count);
        foreach (var (key, value, version) in entries)
        {
            KvSnapshotCodec.WriteEntry(buffer, key, value, version);
            if (buffer.WrittenCount < BlockBytes) continue;
            await output.WriteAsync(buffer.WrittenMemory, ct);
            buffer.ResetWrittenCount();
        }
        if (buffer.WrittenCount > 0) await output.WriteAsync(buffer.WrittenMemory, ct);
    }

    /// <summary>Reads the <paramref name="length"/> bytes of a snapshot, handing each entry to <paramref name="add"/>.
    /// Throws <see cref="InvalidDataException"/> for anything damaged, as <see cref="KvSnapshotCodec.Decode"/> does.</summary>
    public static async ValueTask ReadAsync(Stream input, long length, Action<string, string, ulong> add, CancellationToken ct)
    {
        var reader = new BlockReader(input, length);
        if (!await reader.EnsureAsync(4)) throw new InvalidDataException("snapshot ends inside a length");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(reader.Take(4));
        // Each entry takes at least 16 bytes, so a damaged count is refused before anything is built.
        if (count > (length - 4) / 16) throw new InvalidDataException($"snapshot claims {count} keys in {length - 4} bytes");
        for (var i = 0; i < count; i++)
        {
            var key = await ReadStringAsync(reader, length);
            var value = await ReadStringAsync(reader, length);
            if (!await reader.EnsureAsync(8)) throw new InvalidDataException("snapshot ends inside a version");
            add(key, value, BinaryPrimitives.ReadUInt64LittleEndian(reader.Take(8)));
        }
        if (reader.Left > 0) throw new InvalidDataException($"snapshot has {reader.Left} trailing bytes");
    }

    private static async ValueTask<string> ReadStringAsync(BlockReader reader, long length)
    {
        if (!await reader.EnsureAsync(4)) throw new InvalidDataException("snapshot ends inside a length");
        var bytes = BinaryPrimitives.ReadUInt32LittleEndian(reader.Take(4));
        if (bytes > reader.Left || bytes > length) throw new InvalidDataException("snapshot ends inside a string");
        if (!await reader.EnsureAsync((int)bytes)) throw new InvalidDataException("snapshot ends inside a string");
        return Encoding.UTF8.GetString(reader.Take((int)bytes));
    }

    /// <summary>Reads a stream of known length in blocks and hands out spans of what it buffered.</summary>
    private sealed class BlockReader(Stream input, long length)
    {
        private byte[] _buffer = new byte[(int)Math.Min(BlockBytes, Math.Max(length, 16))];
        private int _start;
        private int _end;
        private long _unread = length;

        /// <summary>Bytes not handed out yet (buffered or still in the stream).</summary>
        public long Left => _end - _start + _unread;

        public async ValueTask<bool> EnsureAsync(int n)
        {
            if (_end - _start >= n) return true;
            if (Left < n) return false;
            if (_buffer.Length < n) Array.Resize(ref _buffer, n); // one value larger than a block
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
            while (_end - _start < n)
            {
                var read = await input.ReadAsync(_buffer.AsMemory(_end, (int)Math.Min(_buffer.Length - _end, _unread)));
                if (read == 0) throw new InvalidDataException($"snapshot stream ended {_unread} bytes early");
                _end += read;
                _unread -= read;
            }
            return true;
        }

        public ReadOnlySpan<byte> Take(int n)
        {
            var span = _buffer.AsSpan(_start, n);
            _start += n;
            return span;
        }
    }
}
