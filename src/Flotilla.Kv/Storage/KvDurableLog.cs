using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;
using Flotilla.Runtime.Storage;
using Flotilla.Wal;
using Flotilla.Wal.Snapshots;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Flotilla.Kv.Storage;

/// <summary>
/// The single-node server's durability: every applied put is an entry of a <see cref="WriteAheadLog"/> (index = its
/// position in apply order, term 0, data = the PutRequest bytes), plus a snapshot file of the whole state.
/// <para>Recovery loads the snapshot and replays the log entries after its index (the WAL drops a torn tail); it
/// refuses to start (<see cref="SnapshotCorruptionException"/>) on a damaged snapshot or on one missing or older than
/// the WAL's snapshot mark. Replaying
/// a put the state already reflects would be harmless anyway: its version no longer matches, so it is refused.</para>
/// <para>Group commit comes from the WAL: puts staged while an fsync runs go out together in the next one.</para>
/// <para>Compaction: snapshot (state + index of the last put it includes) first, then <c>MarkSnapshot</c> and
/// <c>CompactAsync</c>, so the log never forgets anything the snapshot file does not hold.</para>
/// <para>A full disk (ENOSPC) is survivable, see <see cref="DiskFull"/>; a failed fsync is not (every request then
/// fails until a restart).</para>
/// </summary>
public sealed partial class KvDurableLog : IKvLog, IAsyncDisposable
{
    private readonly FlushWatchingFileSystem _fs;
    private readonly KvDurableLogOptions _options;
    private WriteAheadLog _wal;
    private readonly KvStateMachine _state;
    private ulong _appended;
    private ulong _durable;
    private bool _compacting;
    private IOException? _appendFailure;

    private KvDurableLog(FlushWatchingFileSystem fs, KvDurableLogOptions options, WriteAheadLog wal, KvStateMachine state, ulong lastIndex)
    {
        _fs = fs;
        _options = options;
        _wal = wal;
        _state = state;
        _appended = _durable = lastIndex;
    }

    /// <summary>The recovered state machine: the server applies puts to it, and compaction snapshots it.</summary>
    public KvStateMachine State => _state;

    public long LastAppended => (long)_appended;

    /// <summary>How many batches (one fsync each) the log has written: with group commit, far fewer than puts under load.</summary>
    public long SyncCount => _wal.BatchCount;

    /// <summary>Bytes of synced log data (bounded by compaction).</summary>
    public long LogBytes => _wal.SizeBytes;

    /// <summary>What recovery found: log entries replayed on top of the snapshot, and bytes of a torn tail dropped.</summary>
    public (long Replayed, long TornBytes) Recovered { get; private set; }

    /// <summary>What the WAL dropped as a torn last write (its records and entry range), for the start-up line; null if nothing.</summary>
    public string? RecoveredTornTail { get; private init; }

    /// <summary>Opens (or creates) the store and rebuilds the state machine from it.</summary>
    public static async Task<KvDurableLog> OpenAsync(IFileSystem fs, KvDurableLogOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KvDurableLogOptions();
        var watched = new FlushWatchingFileSystem(fs, options.Wal.Directory);
        var (wal, state, lastIndex, replayed, torn, tornTail) = await LoadAsync(watched, options, ulong.MaxValue, cancellationToken);
        return new KvDurableLog(watched, options, wal, state, lastIndex) { Recovered = (replayed, torn), RecoveredTornTail = tornTail };
    }

    /// <summary>Reads the snapshot and the log, replaying entries up to <paramref name="replayUpTo"/> only.</summary>
    private static async Task<(WriteAheadLog Wal, KvStateMachine State, ulong LastIndex, long Replayed, long Torn, string? TornTail)> LoadAsync(
        IFileSystem fs, KvDurableLogOptions options, ulong replayUpTo, CancellationToken cancellationToken)
    {
        var (wal, recovery) = await WriteAheadLog.OpenAsync(fs, options.Wal, cancellationToken);
        try
        {
            // Verified (checksum over header and payload), then checked against the WAL's mark: a missing or older
            // snapshot would silently drop every put the WAL compacted away.
            var snapshot = await KvSnapshotFile.ReadAsync(fs, options.Directory, cancellationToken);
            SnapshotFile.RequireCoversMark(KvSnapshotFile.NameIn(options.Directory), snapshot is { } s ? (s.LastIndex, 0) : null,
                recovery.SnapshotIndex, recovery.SnapshotTerm);
            var (snapshotIndex, state) = snapshot ?? (0, new KvStateMachine());
            long replayed = 0;
            var lastReplayed = 0UL;
            foreach (var entry in recovery.Entries)
            {
                if (entry.Index <= snapshotIndex) continue;
                if (entry.Index > replayUpTo) break;
                PutRequest put;
                try { put = PutRequest.Parser.ParseFrom(entry.Data.Span); }
                catch (InvalidProtocolBufferException e) { throw new InvalidDataException($"KV log entry {entry.Index} is not a put: {e.Message}", e); }
                state.Apply(put);
                replayed++;
                lastReplayed = entry.Index;
            }
            var logEnd = Math.Max(wal.LastIndex, wal.SnapshotIndex);
            var lastIndex = Math.Max(snapshotIndex, replayUpTo == ulong.MaxValue ? logEnd : Math.Max(lastReplayed, Math.Min(logEnd, replayUpTo)));
            if (snapshotIndex > logEnd)
            {
                // The snapshot holds puts whose unsynced log entries a crash took: move the log past them, or new puts
                // would reuse their indices and be skipped as "already in the snapshot" on the next recovery.
                wal.MarkSnapshot(snapshotIndex, 0);
                await wal.SyncAsync(cancellationToken);
            }
            return (wal, state, lastIndex, replayed, recovery.TornBytesDropped, recovery.TornTail);
        }
        catch
        {
            await DisposeQuietlyAsync(wal);
            throw;
        }
    }

    public long Append(PutRequest put)
    {
        ++_appended;
        try
        {
            _wal.Append(new WalEntry(_appended, 0, put.ToByteArray()));
        }
        catch (IOException e)
        {
            // The log failed in the background (e.g. preparing its next segment on a full disk). The put is already
            // applied in memory, so it must not vanish silently: the wait for it meets the failure and rolls back.
            _appendFailure ??= e;
        }
        return (long)_appended;
    }

    public async ValueTask WaitDurableAsync(long sequence, CancellationToken cancellationToken = default)
    {
        if (_recovering is { } recovering) await recovering;
        ThrowIfFailed();
        if ((long)_durable >= sequence) return;
        if (_diskFull is not null || _unrecovered)
        {
            // Whatever asked read state that the rollback took back (or could not yet take back): no answer from it.
            throw new KvDiskFullException(_options.DisplayPath, outcomeKnown: false);
        }
        var target = _appended; // SyncAsync makes everything staged before it durable
        var wal = _wal;
        try
        {
            if (_appendFailure is { } failure)
            {
                _appendFailure = null;
                throw failure;
            }
            await wal.SyncAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await OnSyncFailedAsync(wal, e);
            ThrowIfFailed();
            throw new KvDiskFullException(_options.DisplayPath, outcomeKnown: false);
        }
        if (target > _durable) _durable = target;
        if (_wal.SizeBytes > _options.CompactAfterBytes && !_compacting) await CompactAsync();
    }

    private async Task CompactAsync()
    {
        _compacting = true;
        try
        {
            // The state reflects exactly the puts up to _appended (apply and append happen together, synchronously).
            var index = _appended;
            await KvSnapshotFile.WriteAsync(_fs, _options.Directory, index, _state.Snapshot());
            _wal.MarkSnapshot(index, 0);
            await _wal.SyncAsync();
            await _wal.CompactAsync();
        }
        catch (Exception e) when (DiskFull.Is(e) && !_fs.FlushFailed)
        {
            // The puts that triggered compaction are already durable; only the snapshot is missing. Drop its temp file
            // (space, and no half-written file left behind) and stop taking writes until space returns.
            try { _fs.Delete(KvSnapshotFile.NameIn(_options.Directory) + ".tmp"); }
            catch (IOException) { }
            EnterDiskFull(e, "writing a snapshot");
        }
        finally
        {
            _compacting = false;
        }
    }

    public ValueTask DisposeAsync() => _failed is null && !_unrecovered ? _wal.DisposeAsync() : DisposeQuietlyAsync(_wal);

    private static async ValueTask DisposeQuietlyAsync(WriteAheadLog wal)
    {
        try { await wal.DisposeAsync(); }
        catch (Exception) { /* a failed log cannot sync on close; what it holds on disk is what recovery reads */ }
    }
}
