using System.Buffers.Binary;

namespace Flotilla.Raft;

/// <summary>Reads what <see cref="WireWriter"/> wrote; any malformation throws <see cref="RaftCodecException"/>.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool AtEnd => _position == _data.Length;

    public readonly int Position => _position;

    public byte Byte()
    {
        if (_position >= _data.Length) throw new RaftCodecException("truncated message");
        return _data[_position++];
    }

    public ulong VarUInt()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = Byte();
            if (shift == 63 && b > 1) throw new RaftCodecException("varint overflows 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new RaftCodecException("varint is too long");
    }

    public int VarInt()
    {
        var raw = VarUInt();
        if (raw > uint.MaxValue) throw new RaftCodecException("int out of range");
        var u = (uint)raw;
        return (int)(u >> 1) ^ -(int)(u & 1);
    }

    public int Count(int max)
    {
        var n = VarUInt();
        if (n > (ulong)max) throw new RaftCodecException($"count {n} exceeds limit {max}");
        return (int)n;
    }

    public uint UInt32()
    {
        if (_data.Length - _position < 4) throw new RaftCodecException("truncated message");
        var v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return v;
    }

    /// <summary>Everything not read yet (a field that runs to the end of its buffer, without a length).</summary>
    public ReadOnlySpan<byte> Rest()
    {
        var rest = _data[_position..];
        _position = _data.Length;
        return rest;
    }

    public byte[] Bytes(int max)
    {
        var n = Count(max);
        if (_data.Length - _position < n) throw new RaftCodecException("truncated byte string");
        var result = _data.Slice(_position, n).ToArray();
        _position += n;
        return result;
    }
}

/// <summary>Raised when bytes from the network or disk are not a valid encoding. Callers drop the input.</summary>
public sealed class RaftCodecException(string message) : FormatException(message);
