using Flotilla.Runtime.Storage;
using Flotilla.Wal;
using Microsoft.Extensions.Logging;

namespace Flotilla.Kv.Storage;

/// <summary>
/// A full disk. When a write fails with ENOSPC (and no fsync ever failed, see <see cref="FlushWatchingFileSystem"/>):
/// <list type="number">
/// <item>the poisoned log is closed and reopened from disk, and the state machine rolled back, in place, to the last
/// put made durable: puts applied in memory but not on disk vanish, so no reader sees them (their writers were never
/// acknowledged and get "may or may not have been applied"; records of theirs that reached the disk are cut off by
/// the next append, which reuses their indices);</item>
/// <item>reads keep being served from that state;</item>
/// <item>puts are refused before they apply (RESOURCE_EXHAUSTED "disk full (PATH): not applied");</item>
/// <item>at most once per <see cref="KvDurableLogOptions.DiskFullProbeInterval"/> a put first writes (and deletes) a
/// probe file as large as a log segment; when that succeeds the store takes writes again.</item>
/// </list>
/// A failed fsync instead leaves the store failed for good (<see cref="KvStorageFailedException"/>, restart needed).
/// </summary>
public sealed partial class KvDurableLog
{
    private string? _diskFull;
    private bool _unrecovered;
    private Task? _recovering;
    private long _lastProbe = long.MinValue;
    private Exception? _failed;

    /// <summary>"disk full (PATH)" while the store refuses writes for lack of space; null when it takes them.</summary>
    public string? DiskFullReason => _diskFull;

    /// <summary>Times the disk was found full since the store opened.</summary>
    public long DiskFullEvents { get; private set; }

    private string ProbeName => $"{_options.Directory}/space-probe";

    /// <summary>Refuses a put before it is applied while the disk is full, unless a probe finds space again.</summary>
    public async ValueTask EnsureWritableAsync(CancellationToken cancellationToken = default)
    {
        if (_recovering is { } recovering) await recovering;
        ThrowIfFailed();
        if (_diskFull is null) return;
        var now = _options.Time.GetTimestamp();
        if (_lastProbe != long.MinValue && _options.Time.GetElapsedTime(_lastProbe, now) < _options.DiskFullProbeInterval)
            throw new KvDiskFullException(_options.DisplayPath, outcomeKnown: true);
        _lastProbe = now;
        if (!await SpaceReturnedAsync(cancellationToken) || (_unrecovered && !await TryRecoverAsync()))
            throw new KvDiskFullException(_options.DisplayPath, outcomeKnown: true);
        _options.Log?.LogWarning("{Path}: disk space is available again; taking writes", _options.DisplayPath);
        _diskFull = null;
    }

    private void ThrowIfFailed()
    {
        if (_failed is { } failed) throw new KvStorageFailedException(_options.DisplayPath, failed);
    }

    private async Task<bool> SpaceReturnedAsync(CancellationToken cancellationToken)
    {
        try
        {
            using (var probe = _fs.Open(ProbeName))
                await probe.WriteAsync(0, new byte[_options.Wal.SegmentBytes + 64 * 1024], cancellationToken);
            return true;
        }
        catch (IOException e) when (DiskFull.Is(e))
        {
            return false;
        }
        finally
        {
            try { _fs.Delete(ProbeName); }
            catch (IOException) { }
        }
    }

    private void EnterDiskFull(Exception cause, string doing)
    {
        if (_diskFull is null)
        {
            DiskFullEvents++;
            _options.Log?.LogError(cause, "{Path}: disk full while {Doing}; refusing writes, still serving reads", _options.DisplayPath, doing);
        }
        _diskFull = $"disk full ({_options.DisplayPath})";
        _lastProbe = _options.Time.GetTimestamp();
    }

    /// <summary>The log failed: on ENOSPC roll back and carry on (see the class comment); otherwise fail for good.</summary>
    private async Task OnSyncFailedAsync(WriteAheadLog failed, Exception cause)
    {
        if (_recovering is { } running)
        {
            await running;
            return;
        }
        if (!ReferenceEquals(failed, _wal)) return; // another waiter of the same batch already handled it
        if (!DiskFull.Is(cause) || _fs.FlushFailed)
        {
            if (_failed is null) _options.Log?.LogCritical(cause, "{Path}: storage failed; every request fails until a restart", _options.DisplayPath);
            _failed ??= cause;
            return;
        }
        EnterDiskFull(cause, "writing the log");
        _unrecovered = true;
        var recovery = TryRecoverAsync();
        _recovering = recovery;
        try { await recovery; }
        finally { _recovering = null; }
    }

    /// <summary>Reopens the log and rolls the state back to the last durable put; false (state not rolled back, reads
    /// refused) if even reopening failed, e.g. because the log needs a new segment and there is no room for it.</summary>
    private async Task<bool> TryRecoverAsync()
    {
        await DisposeQuietlyAsync(_wal);
        try
        {
            var (wal, state, lastIndex, _, _, _) = await LoadAsync(_fs, _options, _durable, CancellationToken.None);
            _wal = wal;
            _state.ReplaceWith(state);
            _appended = _durable = lastIndex;
            _unrecovered = false;
            return true;
        }
        catch (Exception e) when (DiskFull.Is(e) && !_fs.FlushFailed)
        {
            // _wal stays the closed instance; every path checks _unrecovered before touching it.
            _options.Log?.LogError(e, "{Path}: cannot reopen the log while the disk is full; reads wait for space too", _options.DisplayPath);
            return false;
        }
    }
}
