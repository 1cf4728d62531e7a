using System.Buffers.Binary;
using System.Text;
using Flotilla.Rsm;

namespace Flotilla.Rsm.Tests.Support;

/// <summary>
/// A test service: an append-only log of string commands. Apply returns the command's position (0-based). It keeps a
/// running hash of everything applied, so replicas can be compared even when the log itself is not kept (keepLog
/// false keeps the state — and so the snapshot — small and constant-size, for the snapshot-bound scenarios).
/// </summary>
internal sealed class AppendLogService(bool keepLog) : IReplicatedService
{
    public long Count { get; private set; }
    public ulong Hash { get; private set; }
    public List<string> Log { get; } = [];
    public int Restores { get; private set; }

    public ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command)
    {
        var text = Encoding.UTF8.GetString(command.Span);
        var position = Count++;
        Hash = Mix(Hash, text);
        if (keepLog) Log.Add(text);
        var result = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(result, position);
        return result;
    }

    public byte[] Snapshot()
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(Count);
        writer.Write(Hash);
        writer.Write(Log.Count);
        foreach (var s in Log) writer.Write(s);
        writer.Flush();
        return stream.ToArray();
    }

    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        using var reader = new BinaryReader(new MemoryStream(snapshot.ToArray()));
        Count = reader.ReadInt64();
        Hash = reader.ReadUInt64();
        Log.Clear();
        var n = reader.ReadInt32();
        for (var i = 0; i < n; i++) Log.Add(reader.ReadString());
        Restores++;
    }

    public static long Position(ReadOnlyMemory<byte> result) => BinaryPrimitives.ReadInt64LittleEndian(result.Span);

    private static ulong Mix(ulong hash, string text)
    {
        // FNV-1a over the command, chained: order-sensitive, so replicas that applied in different orders differ.
        var h = hash ^ 0xcbf29ce484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(text)) h = (h ^ b) * 0x100000001b3UL;
        return (h * 0x100000001b3UL) ^ (ulong)text.Length;
    }
}
