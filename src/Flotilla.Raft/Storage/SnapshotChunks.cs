namespace Flotilla.Raft;

/// <summary>
/// The driver's half of a snapshot transfer (the core names offsets; storage holds the bytes): fills the chunks a
/// leader sends from storage, and writes the chunks a follower receives to storage. Shared by <see cref="RaftNode"/> and
/// the test harnesses that drive bare cores, so they move snapshots exactly as the node does.
/// </summary>
public static class SnapshotChunks
{
    /// <summary>The chunk <paramref name="m"/> with its bytes read from storage (or from <paramref name="unsaved"/>, a
    /// compaction the driver has not handed to storage yet); any other message as it is. Null when the bytes are gone
    /// (storage now holds a newer snapshot): drop the chunk; the leader goes on with the newer snapshot.</summary>
    public static async ValueTask<Message?> FillAsync(IRaftStorage storage, Message m, RaftSnapshot? unsaved = null, CancellationToken cancellationToken = default)
    {
        if (m.Type != MessageType.Snapshot || m.SnapshotLength == 0) return m;
        var meta = m.SnapshotMeta!;
        if (unsaved is not null && unsaved.Index == meta.Index)
        {
            if ((long)m.SnapshotOffset + m.SnapshotLength > unsaved.Data.Length) return null;
            return m with { SnapshotData = unsaved.Data.Slice((int)m.SnapshotOffset, m.SnapshotLength) };
        }
        var buffer = new byte[m.SnapshotLength];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await storage.ReadSnapshotDataAsync(meta.Index, (long)m.SnapshotOffset + read, buffer.AsMemory(read), cancellationToken);
            if (n == 0) return null;
            read += n;
        }
        return m with { SnapshotData = buffer };
    }

    /// <summary>Step 2 of a Ready for its snapshot part: writes the received chunks, then installs the snapshot they
    /// completed, if any, and returns it (with its data, for the state machine).</summary>
    public static async ValueTask<RaftSnapshot?> PersistAsync(IRaftStorage storage, Ready ready, CancellationToken cancellationToken = default)
    {
        foreach (var c in ready.SnapshotChunks) await storage.WriteReceivedSnapshotChunkAsync(c.Meta, (long)c.Offset, c.Data, cancellationToken);
        return ready.Snapshot is { } meta ? await storage.InstallReceivedSnapshotAsync(meta, cancellationToken) : null;
    }
}
