namespace Flotilla.Rsm;

/// <summary>
/// Decides when to snapshot the service: when the persisted Raft state reached the threshold, and at least a quarter
/// of the threshold's worth of commands applied since the last snapshot. The second rule matters because the WAL frees
/// whole segments only, and asynchronously: without it a replica whose state stays near the threshold would snapshot
/// after every single command.
/// </summary>
internal sealed class SnapshotPolicy(long? thresholdBytes)
{
    private long _bytesSinceSnapshot;

    public ulong LastSnapshotIndex { get; private set; }

    public long SnapshotsTaken { get; private set; }

    public void Applied(int commandBytes) => _bytesSinceSnapshot += commandBytes + 24; // + per-entry framing, roughly

    /// <summary>A snapshot was installed or restored at <paramref name="index"/>: the log before it is gone already.</summary>
    public void Restored(ulong index)
    {
        LastSnapshotIndex = index;
        _bytesSinceSnapshot = 0;
    }

    public bool ShouldSnapshot(ulong appliedIndex, long persistedBytes) =>
        thresholdBytes is { } threshold && appliedIndex > LastSnapshotIndex && persistedBytes >= threshold &&
        _bytesSinceSnapshot >= Math.Max(1, threshold / 4);

    public void Took(ulong index)
    {
        Restored(index);
        SnapshotsTaken++;
    }
}
