using Flotilla.Kv.Protos;
using Google.Protobuf;

namespace Flotilla.Kv.Replicated;

/// <summary>
/// The replicated KV's log commands: one tag byte, then the protobuf request. The tag leaves room for new command
/// kinds (e.g. a sharded store's configuration changes) without guessing at message types in old logs.
/// </summary>
public static class KvCommand
{
    private const byte PutTag = 1;

    public static byte[] EncodePut(PutRequest put)
    {
        var bytes = new byte[1 + put.CalculateSize()];
        bytes[0] = PutTag;
        put.WriteTo(bytes.AsSpan(1));
        return bytes;
    }

    /// <summary>Decodes a committed command. Throws <see cref="InvalidDataException"/> on bytes no server wrote: a
    /// committed log is trusted data, so damage there is a bug, not a client error.</summary>
    public static PutRequest DecodePut(ReadOnlySpan<byte> command)
    {
        if (command.IsEmpty || command[0] != PutTag) throw new InvalidDataException($"unknown KV command tag {(command.IsEmpty ? "(empty)" : command[0].ToString())}");
        try { return PutRequest.Parser.ParseFrom(command[1..]); }
        catch (InvalidProtocolBufferException e) { throw new InvalidDataException($"undecodable put command: {e.Message}", e); }
    }
}
