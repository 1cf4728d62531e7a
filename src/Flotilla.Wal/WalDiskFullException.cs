using Flotilla.Runtime.Storage;

namespace Flotilla.Wal;

/// <summary>
/// The log ran out of space in a <em>write</em> (not an fsync): the batch in flight failed and was never acknowledged,
/// everything acknowledged before it is intact on disk. The log refuses further use, like any failed log, but unlike
/// a failed fsync this is recoverable: reopen it (<see cref="WriteAheadLog.OpenAsync"/>, which drops the unacknowledged
/// tail) once there is space, and carry on. <see cref="DiskFull.Is"/> recognises it (its HResult is ENOSPC).
/// </summary>
public sealed class WalDiskFullException : IOException
{
    public WalDiskFullException(string directory, Exception cause)
        : base($"disk full ({directory}): {cause.Message}", cause)
    {
        Directory = directory;
        HResult = DiskFull.Enospc;
    }

    /// <summary>The log's directory (inside its file system).</summary>
    public string Directory { get; }
}
