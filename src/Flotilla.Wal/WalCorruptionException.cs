namespace Flotilla.Wal;

/// <summary>
/// The log is damaged in a way that could mean losing acknowledged data: damage a torn last write cannot explain,
/// a bad record in a sealed segment, a missing, empty or truncated segment, a missing manifest. Recovery refuses to
/// guess; an operator must decide (restore from a peer or a backup). Raft storage also throws it when the recovered
/// hard state says entries were committed that the log no longer holds.
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

    /// <summary>Damage that belongs to no single byte of a file (<see cref="Offset"/> is -1), e.g. a log that is
    /// shorter than its own hard state says.</summary>
    public WalCorruptionException(string file, string reason)
        : base($"{file}: {reason}")
    {
        File = file;
        Offset = -1;
        Reason = reason;
    }

    /// <summary>The segment file (name within the file system), or the directory or manifest concerned.</summary>
    public string File { get; }

    /// <summary>Byte offset of the damaged record within <see cref="File"/>; -1 when no single offset applies.</summary>
    public long Offset { get; }

    public string Reason { get; }
}
