using Flotilla.Runtime.Storage;
using Microsoft.Extensions.Logging;

namespace Flotilla.Server;

/// <summary>
/// What the server's data directory has done wrong, as seen by <see cref="InstrumentedFileSystem"/> (every WAL and
/// snapshot I/O passes through it): the first "no space left on device". Raft's log poisons itself on a failed write
/// (docs/wal.md "Failure") and this server does not reopen it while running, so the condition stays until a restart
/// after space is freed; status, metrics and the KV API all report it instead of pretending to be a healthy leader.
/// </summary>
public sealed class StorageHealth(string path, ILogger? log = null)
{
    private volatile string? _diskFull;

    /// <summary>"disk full (PATH)" once a write failed for lack of space; null while healthy.</summary>
    public string? DiskFull => _diskFull;

    internal void Observe(Exception error)
    {
        if (!Runtime.Storage.DiskFull.Is(error) || _diskFull is not null) return;
        _diskFull = $"disk full ({path})";
        log?.LogError(error, "{Path}: disk full; writes fail until space is freed and the server restarted, reads are still served", path);
    }
}
