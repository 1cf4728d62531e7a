using System.Buffers.Binary;
using Flotilla.Rsm;

namespace Flotilla.Bench.Raft;

/// <summary>The trivial state machine under the benchmark: counts applied commands, so the measured cost is Raft's
/// (log, replication, fsync, apply hand-off), not the service's.</summary>
public sealed class CounterService : IReplicatedService
{
    private static readonly ReadOnlyMemory<byte> Empty = ReadOnlyMemory<byte>.Empty;

    public long Applied { get; private set; }

    public ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command)
    {
        Applied++;
        return Empty;
    }

    public byte[] Snapshot()
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, Applied);
        return bytes;
    }

    public void Restore(ReadOnlyMemory<byte> snapshot) => Applied = BinaryPrimitives.ReadInt64LittleEndian(snapshot.Span);
}
