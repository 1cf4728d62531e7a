using System.Buffers.Binary;
using System.Net;
using DotNext.Buffers;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace Flotilla.Bench.Raft;

/// <summary>DotNext's in-memory member list for a fixed 3-member cluster on IPv4 endpoints. (DotNext's own EndPoint
/// storage is internal; this is the documented extension point.) An address travels as 4 address bytes + a port.</summary>
public sealed class LoopbackMemberStorage : InMemoryClusterConfigurationStorage<EndPoint>
{
    private const int EncodedBytes = 8;

    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> output)
    {
        var ip = (IPEndPoint)address;
        Span<byte> bytes = stackalloc byte[EncodedBytes];
        ip.Address.MapToIPv4().TryWriteBytes(bytes[..4], out _);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[4..], ip.Port);
        output.Write(bytes);
    }

    protected override EndPoint Decode(ref SequenceReader input)
    {
        Span<byte> bytes = stackalloc byte[EncodedBytes];
        input.Read(bytes);
        return new IPEndPoint(new IPAddress(bytes[..4]), BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]));
    }
}
