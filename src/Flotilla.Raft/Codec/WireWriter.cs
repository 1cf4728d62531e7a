using System.Buffers;
using System.Buffers.Binary;

namespace Flotilla.Raft;

/// <summary>Appends little-endian fixed and LEB128 variable-length integers to a growable buffer.</summary>
internal sealed class WireWriter(int initialCapacity = 256)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(initialCapacity);

    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    public void Byte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void VarUInt(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _buffer.Advance(n);
    }

    /// <summary>Zig-zag, so small negative ids stay small.</summary>
    public void VarInt(int value) => VarUInt((uint)((value << 1) ^ (value >> 31)));

    public void UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void Bytes(ReadOnlySpan<byte> data)
    {
        VarUInt((ulong)data.Length);
        data.CopyTo(_buffer.GetSpan(data.Length));
        _buffer.Advance(data.Length);
    }
}
