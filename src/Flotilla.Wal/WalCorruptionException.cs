namespace Flotilla.Wal;

/// <summary>
/// The log is damaged in a way that could mean losing acknowledged data: a bad record followed by valid records,
/// a bad record in a sealed segment, or a missing segment. Recovery refuses to guess; an operator must decide
/// (restore from a peer or a backup).
/// </summary>
public sealed class WalCorruptionException : IOException
{
    public WalCorruptionException(string file, long offset, string reason)
        : base($"{file} at byte {offset}: {reason}")
    {
        File = file;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The segment file (name within the file system).</summary>
    public string File { get; }

    /// <summary>Byte offset of the damaged record within <see cref="File"/>.</summary>
    public long Offset { get; }

    public string Reason { get; }
}
