using Flotilla.Runtime.Storage;
using Flotilla.Wal;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Raft;

/// <summary>
/// Raft storage over the segmented <see cref="WriteAheadLog"/> (entries, hard state, snapshot mark) plus one
/// snapshot file replaced atomically. Order of a snapshot save: the file first (durable), then the WAL mark, then
/// compaction — so after any crash the newest snapshot file covers whatever the WAL no longer holds.
/// </summary>
public sealed class WalRaftStorage : IRaftStorage, IAsyncDisposable
{
    private readonly IFileSystem _fs;
    private readonly WriteAheadLog _wal;
    private readonly string _snapshotFile;
    private RaftPersistentState _loaded;
    private long _snapshotBytes;

    private WalRaftStorage(IFileSystem fs, WriteAheadLog wal, string snapshotFile, RaftPersistentState loaded, long snapshotBytes)
    {
        _fs = fs;
        _wal = wal;
        _snapshotFile = snapshotFile;
        _loaded = loaded;
        _snapshotBytes = snapshotBytes;
    }

    /// <summary>Opens (or creates) the storage of one group under <paramref name="directory"/> (e.g. "raft/7").</summary>
    public static async ValueTask<WalRaftStorage> OpenAsync(IFileSystem fs, string directory, WalOptions? walOptions = null, CancellationToken ct = default)
    {
        // Preallocated (zero-filled) segments: an fsync then carries only data, not a journal commit for the file's new
        // size. Measured on the 3-node Raft bench: ~25% more commits/s at 64 proposers than appending segments.
        var options = (walOptions ?? new WalOptions { SegmentBytes = 4 * WalOptions.MiB, Preallocate = true }) with { Directory = $"{directory}/wal" };
        var (wal, recovery) = await WriteAheadLog.OpenAsync(fs, options, ct);
        var snapshotFile = RaftSnapshotFile.NameIn(directory);
        RaftSnapshot? snapshot = null;
        long snapshotBytes = 0;
        try
        {
            // Verified (checksum over header and payload) and cross-checked with the WAL's mark before anything is used.
            if (await RaftSnapshotFile.ReadAsync(fs, snapshotFile, ct) is { } read) (snapshot, snapshotBytes) = read;
            SnapshotFile.RequireCoversMark(snapshotFile, snapshot is null ? null : (snapshot.Index, snapshot.Term), recovery.SnapshotIndex, recovery.SnapshotTerm);
        }
        catch
        {
            await wal.DisposeAsync();
            throw;
        }
        var hardState = recovery.State.IsEmpty ? HardState.Empty : StateCodec.DecodeHardState(recovery.State.Span);
        var entries = recovery.Entries.Select(e => EntryCodec.DecodePayload(e.Index, e.Term, e.Data.Span)).ToList();
        if (snapshot is not null && snapshot.Index > recovery.SnapshotIndex)
        {
            // A crash fell between writing the snapshot file and marking the WAL: finish the mark now. If the log does
            // not hold the snapshot's last entry, the snapshot replaced the log (installed from the leader).
            var holds = entries.Any(e => e.Index == snapshot.Index && e.Term == snapshot.Term);
            entries = holds ? entries.Where(e => e.Index > snapshot.Index).ToList() : [];
            wal.MarkSnapshot(snapshot.Index, snapshot.Term);
            await wal.SyncAsync(ct);
        }
        var held = Math.Max(entries.Count > 0 ? entries[^1].Index : 0, Math.Max(snapshot?.Index ?? 0, recovery.SnapshotIndex));
        if (hardState.Commit > held)
        {
            // The member acknowledged (voted for, or counted towards the commit of) entries it no longer has: letting it
            // vote or lead could elect a second leader for a term or overwrite committed entries (etcd's "member lost
            // its data"). It must be restored from a peer instead.
            await wal.DisposeAsync();
            throw new WalCorruptionException(options.Directory,
                $"the hard state says entries up to {hardState.Commit} were committed, but the log and snapshot hold only up to {held}: this member lost acknowledged state and must not vote or lead; remove it from the group and add it back empty");
        }
        var loaded = new RaftPersistentState(hardState, snapshot, entries);
        return new WalRaftStorage(fs, wal, snapshotFile, loaded, snapshotBytes) { RecoveredTornTail = recovery.TornTail };
    }

    /// <summary>What recovery dropped as a torn last write (for the start-up log line); null if nothing.</summary>
    public string? RecoveredTornTail { get; private init; }

    public ValueTask<RaftPersistentState> LoadAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_loaded);

    public ValueTask AppendAsync(IReadOnlyList<LogEntry> entries, CancellationToken cancellationToken = default)
    {
        foreach (var e in entries)
        {
            if (e.Index <= _wal.SnapshotIndex) continue; // covered by the snapshot already
            _wal.Append(new WalEntry(e.Index, e.Term, EntryCodec.EncodePayload(e)));
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask SaveHardStateAsync(HardState state, CancellationToken cancellationToken = default)
    {
        _wal.SaveState(StateCodec.EncodeHardState(state));
        return ValueTask.CompletedTask;
    }

    public async ValueTask SaveSnapshotAsync(RaftSnapshot snapshot, bool discardLog, CancellationToken cancellationToken = default)
    {
        if (snapshot.Index <= _wal.SnapshotIndex) return; // never move the snapshot back
        _snapshotBytes = await RaftSnapshotFile.WriteAsync(_fs, _snapshotFile, snapshot, cancellationToken);
        if (snapshot.Index > _wal.SnapshotIndex) _wal.MarkSnapshot(snapshot.Index, snapshot.Term);
        await _wal.CompactAsync(cancellationToken);
        _loaded = RaftPersistentState.Empty; // only needed at start; let the memory go
    }

    public ValueTask SyncAsync(CancellationToken cancellationToken = default) => _wal.SyncAsync(cancellationToken);

    public long SizeBytes => _wal.SizeBytes + _snapshotBytes;

    public ValueTask DisposeAsync() => _wal.DisposeAsync();
}
