using System.Buffers.Binary;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace Flotilla.Bench.Raft;

/// <summary>DotNext's side of the trivial state machine: counts applied entries; snapshots are DotNext's own
/// (SimpleStateMachine persists one when <see cref="ApplyAsync"/> asks, which here is rarely).</summary>
public sealed class DotNextCounter(DirectoryInfo location) : SimpleStateMachine(location)
{
    private const long SnapshotEveryEntries = 1_000_000;

    public long Applied;

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var buffer = new byte[sizeof(long)];
        using var handle = File.OpenHandle(snapshotFile.FullName, options: FileOptions.Asynchronous);
        await RandomAccess.ReadAsync(handle, buffer, fileOffset: 0L, token);
        Applied = BinaryPrimitives.ReadInt64LittleEndian(buffer);
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token)
    {
        var buffer = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, Applied);
        return writer.Invoke(buffer, token);
    }

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        Applied++;
        return new(entry.Index % SnapshotEveryEntries == 0);
    }
}
