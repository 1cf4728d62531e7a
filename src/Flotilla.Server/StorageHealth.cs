using Microsoft.Extensions.Logging;

namespace Flotilla.Server;

/// <summary>
/// Whether the server's data directory has room for writes, for status, metrics and the KV API (which refuses puts
/// with RESOURCE_EXHAUSTED "disk full (PATH)" while it has not). Two sources: <see cref="InstrumentedFileSystem"/>
/// sees every ENOSPC the moment it happens (so a put arriving right after is already refused), and the server's
/// refresh (<see cref="Update"/>, on the node's scheduler) passes on what the Raft storage says about itself: low on
/// space, out of it, or fine again after a probe found room (docs/wal.md "Full disk"). Only the latter clears the
/// condition, and only once no new ENOSPC was seen since the previous refresh.
/// </summary>
public sealed class StorageHealth(string path, ILogger? log = null)
{
    private volatile string? _diskFull;
    private int _observed;
    private int _observedAtUpdate;

    /// <summary>The data directory, as errors name it.</summary>
    public string Path => path;

    /// <summary>"disk full (PATH)" while writes are refused for lack of space; null while healthy.</summary>
    public string? DiskFull => _diskFull;

    /// <summary>Times the data directory was found full since the server started.</summary>
    public int DiskFullEvents { get; private set; }

    internal void Observe(Exception error)
    {
        if (!Runtime.Storage.DiskFull.Is(error)) return;
        Interlocked.Increment(ref _observed);
        EnterDiskFull(error.Message);
    }

    /// <summary>What the Raft storage reports now (null: room for writes).</summary>
    internal void Update(string? problem)
    {
        var observed = Volatile.Read(ref _observed);
        if (problem is not null) EnterDiskFull(problem);
        else if (_diskFull is not null && observed == _observedAtUpdate)
        {
            _diskFull = null;
            log?.LogWarning("{Path}: disk space is available again; taking writes", path);
        }
        _observedAtUpdate = observed;
    }

    private void EnterDiskFull(string cause)
    {
        if (_diskFull is not null) return;
        _diskFull = $"disk full ({path})";
        DiskFullEvents++;
        log?.LogError("{Path}: disk full ({Cause}); refusing writes, still serving reads; writes resume by themselves once space is freed", path, cause);
    }
}
