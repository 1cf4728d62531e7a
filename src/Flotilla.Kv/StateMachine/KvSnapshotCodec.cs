using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Flotilla.Kv.StateMachine;

/// <summary>
/// Snapshot bytes of a <see cref="KvStateMachine"/>: <c>u32 count</c>, then per key
/// <c>u32 keyBytes, key (UTF-8), u32 valueBytes, value (UTF-8), u64 version</c>, all little-endian.
/// Integrity (checksums) is the job of whoever stores the bytes.
/// </summary>
public static class KvSnapshotCodec
{
    public static byte[] Encode(IEnumerable<(string Key, string Value, ulong Version)> entries, int count)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteCount(buffer, count);
        foreach (var (key, value, version) in entries) WriteEntry(buffer, key, value, version);
        return buffer.WrittenSpan.ToArray();
    }

    internal static void WriteCount(ArrayBufferWriter<byte> buffer, int count)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.GetSpan(4), (uint)count);
        buffer.Advance(4);
    }

    internal static void WriteEntry(ArrayBufferWriter<byte> buffer, string key, string value, ulong version)
    {
        WriteString(buffer, key);
        WriteString(buffer, value);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(8), version);
        buffer.Advance(8);
    }

    public static List<(string Key, string Value, ulong Version)> Decode(ReadOnlySpan<byte> data)
    {
        var count = ReadUInt32(ref data);
        // Each entry takes at least 16 bytes, so a damaged count cannot make us allocate a huge list.
        if (count > data.Length / 16) throw new InvalidDataException($"snapshot claims {count} keys in {data.Length} bytes");
        var entries = new List<(string, string, ulong)>((int)count);
        for (var i = 0; i < count; i++)
        {
            var key = ReadString(ref data);
            var value = ReadString(ref data);
            if (data.Length < 8) throw new InvalidDataException("snapshot ends inside a version");
            var version = BinaryPrimitives.ReadUInt64LittleEndian(data);
            data = data[8..];
            entries.Add((key, value, version));
        }
        if (!data.IsEmpty) throw new InvalidDataException($"snapshot has {data.Length} trailing bytes");
        return entries;
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string s)
    {
        var length = Encoding.UTF8.GetByteCount(s);
        var span = buffer.GetSpan(4 + length);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
        Encoding.UTF8.GetBytes(s, span[4..]);
        buffer.Advance(4 + length);
    }

    private static uint ReadUInt32(ref ReadOnlySpan<byte> data)
    {
        if (data.Length < 4) throw new InvalidDataException("snapshot ends inside a length");
        var value = BinaryPrimitives.ReadUInt32LittleEndian(data);
        data = data[4..];
        return value;
    }

    private static string ReadString(ref ReadOnlySpan<byte> data)
    {
        var length = ReadUInt32(ref data);
        if (length > data.Length) throw new InvalidDataException("snapshot ends inside a string");
        var s = Encoding.UTF8.GetString(data[..(int)length]);
        data = data[(int)length..];
        return s;
    }
}
