namespace Flotilla.Wal.Snapshots;

/// <summary>
/// A snapshot file cannot be trusted: it is damaged (checksum, length, magic, version), it is not a regular file, or
/// it is missing or older although the WAL says it is required. Loading it anyway could serve a store that silently
/// lost or altered acknowledged data, so opening refuses; an operator must decide (restore from a peer or a backup).
/// Shaped like <see cref="WalCorruptionException"/> so the CLI reports both the same way (exit 4, one line).
/// </summary>
public sealed class SnapshotCorruptionException : IOException
{
    public SnapshotCorruptionException(string file, long offset, string reason, Exception? inner = null)
        : base(offset >= 0 ? $"{file} at byte {offset}: {reason}" : $"{file}: {reason}", inner)
    {
        File = file;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The snapshot file (name within the file system).</summary>
    public string File { get; }

    /// <summary>Byte offset of the damaged field within <see cref="File"/>; -1 when no offset applies (the file is missing, not a file, or unreadable).</summary>
    public long Offset { get; }

    public string Reason { get; }
}
