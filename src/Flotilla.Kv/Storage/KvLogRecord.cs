using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Google.Protobuf;
using Flotilla.Kv.Protos;

namespace Flotilla.Kv.Storage;

/// <summary>
/// One framed record of the KV log: <c>u32 payloadBytes, u32 crc32(payload), payload</c> (a PutRequest).
/// The checksum lets recovery tell a torn or garbage tail from a real record.
/// </summary>
internal static class KvLogRecord
{
    public const int HeaderBytes = 8;

    /// <summary>Largest payload accepted when reading: a damaged length cannot make recovery allocate gigabytes.</summary>
    public const int PayloadBytesMax = KvLimits.KeyBytesMax + KvLimits.ValueBytesMax + 64;

    public static void Write(ArrayBufferWriter<byte> buffer, PutRequest put)
    {
        var size = put.CalculateSize();
        var span = buffer.GetSpan(HeaderBytes + size);
        put.WriteTo(span.Slice(HeaderBytes, size));
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Checksum(span.Slice(HeaderBytes, size)));
        buffer.Advance(HeaderBytes + size);
    }

    /// <summary>Reads the record at the start of <paramref name="data"/>; false at a torn, damaged or missing record.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out PutRequest put, out int recordBytes)
    {
        put = null!;
        recordBytes = 0;
        if (data.Length < HeaderBytes) return false;
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (size > PayloadBytesMax || size > data.Length - HeaderBytes) return false;
        var payload = data.Slice(HeaderBytes, (int)size);
        if (BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) != Checksum(payload)) return false;
        try { put = PutRequest.Parser.ParseFrom(payload); }
        catch (InvalidProtocolBufferException) { return false; }
        recordBytes = HeaderBytes + (int)size;
        return true;
    }

    // CRC-32 (IEEE): catches torn writes and flipped bits; this is not a defence against tampering.
    private static uint Checksum(ReadOnlySpan<byte> payload) => Crc32.HashToUInt32(payload);
}
