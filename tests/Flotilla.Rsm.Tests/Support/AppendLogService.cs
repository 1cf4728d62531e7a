using System.Buffers.Binary;
using System.Text;
using Flotilla.Rsm;

namespace Flotilla.Rsm.Tests.Support;

/// <summary>
/// A test service: an append-only log of string commands. Apply returns the command's position (0-based). It keeps a
/// running hash of everything applied, so replicas can be compared even when the log itself is not kept (keepLog
/// false keeps the state — and so the snapshot — small and constant-size, for the snapshot-bound scenarios).
/// <para>With <c>streaming</c> it snapshots and restores only through the stream methods, one small write or read per
/// field (as a large service would serialize), and refuses the byte-array ones, so a scenario proves the streamed path
/// carries every snapshot.</para>
/// </summary>
internal sealed class AppendLogService(bool keepLog, bool streaming = false) : IReplicatedService
{
    public int StreamedSnapshots { get; private set; }

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
        if (streaming) throw new InvalidOperationException("a streaming service is never asked for its snapshot as bytes");
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(Count);
        writer.Write(Hash);
        writer.Write(Log.Count);
        foreach (var s in Log) writer.Write(s);
        writer.Flush();
        return stream.ToArray();
    }

    public async ValueTask WriteSnapshotAsync(Stream output, CancellationToken cancellationToken)
    {
        if (!streaming)
        {
            await output.WriteAsync(Snapshot(), cancellationToken);
            return;
        }
        var field = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(field, Count);
        await output.WriteAsync(field, cancellationToken);
        BinaryPrimitives.WriteUInt64LittleEndian(field, Hash);
        await output.WriteAsync(field, cancellationToken);
        BinaryPrimitives.WriteInt32LittleEndian(field, Log.Count);
        await output.WriteAsync(field.AsMemory(0, 4), cancellationToken);
        foreach (var s in Log)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            BinaryPrimitives.WriteInt32LittleEndian(field, bytes.Length);
            await output.WriteAsync(field.AsMemory(0, 4), cancellationToken);
            await output.WriteAsync(bytes, cancellationToken);
        }
        StreamedSnapshots++;
    }

    public async ValueTask RestoreSnapshotAsync(Stream input, long length, CancellationToken cancellationToken)
    {
        if (!streaming)
        {
            var data = new byte[length];
            await input.ReadExactlyAsync(data, cancellationToken);
            Restore(data);
            return;
        }
        var field = new byte[8];
        await input.ReadExactlyAsync(field, cancellationToken);
        Count = BinaryPrimitives.ReadInt64LittleEndian(field);
        await input.ReadExactlyAsync(field, cancellationToken);
        Hash = BinaryPrimitives.ReadUInt64LittleEndian(field);
        await input.ReadExactlyAsync(field.AsMemory(0, 4), cancellationToken);
        var n = BinaryPrimitives.ReadInt32LittleEndian(field);
        Log.Clear();
        for (var i = 0; i < n; i++)
        {
            await input.ReadExactlyAsync(field.AsMemory(0, 4), cancellationToken);
            var bytes = new byte[BinaryPrimitives.ReadInt32LittleEndian(field)];
            await input.ReadExactlyAsync(bytes, cancellationToken);
            Log.Add(Encoding.UTF8.GetString(bytes));
        }
        if (input.Position != length) throw new InvalidDataException($"the snapshot holds {length - input.Position} bytes more than the service wrote");
        Restores++;
    }

    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        if (streaming) throw new InvalidOperationException("a streaming service is never given its snapshot as bytes");
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
