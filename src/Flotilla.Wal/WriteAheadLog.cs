using Flotilla.Runtime.Storage;
using Flotilla.Wal.Format;

namespace Flotilla.Wal;

/// <summary>
/// A segmented write-ahead log for Raft's entries, hard state and snapshot mark.
/// <para>Operations are staged in memory by <see cref="Append"/>, <see cref="SaveState"/> and
/// <see cref="MarkSnapshot"/> and made durable together by <see cref="SyncAsync"/> (one write and one fsync per
/// batch, group commit across concurrent callers). Meant for one logical thread (a node's scheduler); an internal
/// lock keeps it safe where awaits resume on other threads (benchmarks, tests without a scheduler).</para>
/// <para>A failed write or fsync poisons the log: every later call throws, because after a failed fsync the
/// kernel may already have dropped the dirty pages and nothing staged can be trusted to be on disk. A write that
/// failed for lack of space (never an fsync) throws <see cref="WalDiskFullException"/> instead: reopen the log once
/// there is space (see WriteAheadLog.DiskFull.cs).</para>
/// </summary>
public sealed partial class WriteAheadLog : IAsyncDisposable
{
    private readonly FlushWatchingFileSystem _fs;
    private readonly WalOptions _options;
    private readonly Lock _gate = new();
    private readonly LogModel _model;
    private readonly List<Segment> _segments;
    private Segment? _tail;
    private List<PendingWrite> _staged = [];
    private long _stagedBytes;
    private long _stagedOps;
    private long _durableOps;
    private ulong _durableSnapshotIndex;
    private long _sizeBytes;
    private Exception? _failure;
    private bool _disposed;

    private WriteAheadLog(IFileSystem fs, WalOptions options, LogModel model, List<Segment> segments)
    {
        _fs = FlushWatchingFileSystem.Wrap(fs);
        _options = options;
        _model = model;
        _segments = segments;
        _tail = segments.Count == 0 ? null : segments[^1];
        _durableSnapshotIndex = model.SnapshotIndex;
        _sizeBytes = segments.Sum(s => s.DurableEnd);
    }

    /// <summary>
    /// Opens the log in <see cref="WalOptions.Directory"/>, creating it if absent, and recovers its contents.
    /// A torn tail of the last segment is dropped (and reported); damage anywhere else throws
    /// <see cref="WalCorruptionException"/>. When this returns, everything recovered is durable.
    /// </summary>
    public static ValueTask<(WriteAheadLog Log, WalRecovery Recovery)> OpenAsync(IFileSystem fs, WalOptions options, CancellationToken ct = default) =>
        WalRecoverer.OpenAsync(fs, options, ct);

    internal static WriteAheadLog Create(IFileSystem fs, WalOptions options, LogModel model, List<Segment> segments) =>
        new(fs, options, model, segments);

    /// <summary>Index of the first live entry (staged ones included), 0 when there is none.</summary>
    public ulong FirstIndex { get { lock (_gate) return _model.FirstIndex; } }

    /// <summary>Index of the last live entry (staged ones included), 0 when there is none.</summary>
    public ulong LastIndex { get { lock (_gate) return _model.LastIndex; } }

    /// <summary>The latest snapshot mark (staged included), 0 when none.</summary>
    public ulong SnapshotIndex { get { lock (_gate) return _model.SnapshotIndex; } }

    public ulong SnapshotTerm { get { lock (_gate) return _model.SnapshotTerm; } }

    /// <summary>Bytes of record data in the live segments that has been written and synced (preallocated zeros
    /// not counted). Bounded by compaction.</summary>
    public long SizeBytes { get { lock (_gate) return _sizeBytes; } }

    /// <summary>Number of segment files the log currently consists of.</summary>
    public int SegmentCount { get { lock (_gate) return _segments.Count; } }

    /// <summary>
    /// Stages an entry. If <c>entry.Index &lt;= LastIndex</c> the live entries from that index on are discarded first
    /// (Raft's conflicting-suffix truncation). The index must be above the snapshot mark and at most one past the
    /// last entry (or the snapshot mark when the log is empty).
    /// </summary>
    public void Append(in WalEntry entry)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_model.CheckAppend(entry.Index) is { } problem) throw new ArgumentOutOfRangeException(nameof(entry), entry.Index, problem);
            var payloadBytes = Payloads.EntryPrefixBytes + entry.Data.Length;
            CheckRecordSize(payloadBytes, "entry");
            var frame = Reserve(payloadBytes, entry.Index);
            Payloads.WriteEntryPrefix(frame[RecordFrame.HeaderBytes..], entry.Index, entry.Term);
            entry.Data.Span.CopyTo(frame[(RecordFrame.HeaderBytes + Payloads.EntryPrefixBytes)..]);
            RecordFrame.Seal(frame, RecordType.Entry, payloadBytes);
            _model.ApplyEntry(entry.Index, entry.Term, default);
            _stagedOps++;
        }
    }

    /// <summary>Stages Raft's hard state (opaque bytes); recovery returns the latest.</summary>
    public void SaveState(ReadOnlySpan<byte> state)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            CheckRecordSize(state.Length, "state");
            StageState(state);
            _model.ApplyState(state);
            _stagedOps++;
        }
    }

    /// <summary>
    /// Stages a snapshot mark: entries up to <paramref name="index"/> are no longer needed. Following Raft, if the
    /// log holds entry <paramref name="index"/> with term <paramref name="term"/> the entries after it stay live;
    /// otherwise the snapshot supersedes the whole log and every live entry is discarded. The mark never moves back.
    /// </summary>
    public void MarkSnapshot(ulong index, ulong term)
    {
        lock (_gate)
        {
            ThrowIfUnusable();
            if (index == 0) throw new ArgumentOutOfRangeException(nameof(index), index, "snapshot index 0 is reserved");
            if (index < _model.SnapshotIndex)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"snapshot mark may not move back from {_model.SnapshotIndex}");
            if (index == _model.SnapshotIndex && term == _model.SnapshotTerm) return;
            var keep = _model.KeepsEntriesAfter(index, term);
            StageSnapshot(index, term, keep);
            _model.ApplySnapshot(index, term, keep);
            _stagedOps++;
        }
    }

    private void CheckRecordSize(int payloadBytes, string what)
    {
        var frameBytes = (long)RecordFrame.FrameBytes(payloadBytes);
        if (frameBytes > _options.RecordBytesMax)
            throw new ArgumentException($"{what} record of {frameBytes} bytes exceeds RecordBytesMax ({_options.RecordBytesMax})");
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is WalDiskFullException full) throw new WalDiskFullException(full.Directory, full.InnerException!);
        if (_failure is not null) throw new IOException("the write-ahead log failed earlier and can no longer be used; reopen it", _failure);
    }

    /// <summary>Reserves space for one record in the tail segment, rotating first if it would not fit.
    /// Returns the whole (aligned) frame; the caller fills the payload and seals it.</summary>
    private Span<byte> Reserve(int payloadBytes, ulong entryIndex = 0, bool opening = false)
    {
        var alignedBytes = RecordFrame.AlignedSize(RecordFrame.FrameBytes(payloadBytes));
        if (!opening && _stagedBytes > 0 && _stagedBytes + alignedBytes > _options.StagedBytesMax)
            throw new InvalidOperationException($"more than StagedBytesMax ({_options.StagedBytesMax}) bytes staged; call SyncAsync");
        if (!opening)
        {
            var batchRecord = CurrentWrite() is null ? PendingWrite.BatchRecordBytes : 0;
            if (_tail is null || (_tail.HasBody && _tail.StagedEnd + batchRecord + alignedBytes > _options.SegmentBytes)) Rotate();
        }
        var tail = _tail!;
        var pending = CurrentWrite() ?? StartWrite(tail);
        var frame = Take(pending, tail, alignedBytes);
        pending.CountRecord(entryIndex);
        if (!opening) tail.HasBody = true;
        if (entryIndex > tail.MaxEntryIndex) tail.MaxEntryIndex = entryIndex;
        return frame;
    }

    /// <summary>The staged write into the tail segment that later records join, if there is one.</summary>
    private PendingWrite? CurrentWrite() => _tail is { } tail && _staged.Count > 0 && _staged[^1].Target == tail ? _staged[^1] : null;

    /// <summary>A new write into an existing segment: it opens with its batch record.</summary>
    private PendingWrite StartWrite(Segment tail)
    {
        var pending = new PendingWrite(tail, tail.StagedEnd, createsSegment: false);
        _staged.Add(pending);
        BeginBatch(pending, tail);
        return pending;
    }

    private void BeginBatch(PendingWrite pending, Segment segment)
    {
        pending.BeginBatch();
        segment.StagedEnd += PendingWrite.BatchRecordBytes;
        _stagedBytes += PendingWrite.BatchRecordBytes;
    }

    private Span<byte> Take(PendingWrite pending, Segment segment, int alignedBytes)
    {
        var frame = pending.Reserve(alignedBytes);
        segment.StagedEnd += alignedBytes;
        _stagedBytes += alignedBytes;
        return frame;
    }

    /// <summary>Starts a new segment. It opens with its header (which records where the previous segment ended, so
    /// recovery can tell if it was later cut short), then a batch carrying the current state and snapshot mark, so
    /// that every older segment can later be deleted without losing them.</summary>
    private void Rotate(ulong? sequenceOverride = null)
    {
        var previous = _tail;
        var sequence = sequenceOverride ?? (previous is null ? 1 : previous.Sequence + 1);
        var firstIndex = _model.NextIndex;
        var segment = new Segment(SegmentName.Format(_options.Directory, sequence, firstIndex), sequence, firstIndex);
        _segments.Add(segment);
        _tail = segment;
        var pending = new PendingWrite(segment, 0, createsSegment: true);
        _staged.Add(pending);

        var header = Take(pending, segment, RecordFrame.AlignedSize(RecordFrame.FrameBytes(Payloads.SegmentHeaderBytes)));
        var allocated = _options.Preallocate ? (ulong)_options.SegmentBytes : 0;
        Payloads.WriteSegmentHeader(header[RecordFrame.HeaderBytes..], new SegmentHeader(sequence, firstIndex, allocated,
            previous?.Sequence ?? 0, previous?.FirstIndex ?? 0, (ulong)(previous?.StagedEnd ?? 0)));
        RecordFrame.Seal(header, RecordType.SegmentHeader, Payloads.SegmentHeaderBytes);
        BeginBatch(pending, segment);
        if (_model.HasState) StageState(_model.State, opening: true);
        if (_model.SnapshotIndex > 0) StageSnapshot(_model.SnapshotIndex, _model.SnapshotTerm, keepEntries: true, opening: true);
    }

    private void StageState(ReadOnlySpan<byte> state, bool opening = false)
    {
        var frame = Reserve(state.Length, opening: opening);
        state.CopyTo(frame[RecordFrame.HeaderBytes..]);
        RecordFrame.Seal(frame, RecordType.State, state.Length);
    }

    private void StageSnapshot(ulong index, ulong term, bool keepEntries, bool opening = false)
    {
        var frame = Reserve(Payloads.SnapshotBytes, opening: opening);
        Payloads.WriteSnapshot(frame[RecordFrame.HeaderBytes..], index, term, keepEntries);
        RecordFrame.Seal(frame, RecordType.Snapshot, Payloads.SnapshotBytes);
    }

    /// <summary>Creates the first segment of an empty log (or one whose only segment was torn before its header).</summary>
    internal async ValueTask StartFirstSegmentAsync(ulong previousSequence, CancellationToken ct)
    {
        lock (_gate)
        {
            Rotate(previousSequence + 1);
            _stagedOps++;
        }
        await SyncAsync(ct);
    }

    /// <summary>Makes everything staged durable, then closes the files (also when that sync fails).</summary>
    public async ValueTask DisposeAsync()
    {
        bool healthy;
        lock (_gate)
        {
            if (_disposed) return;
            healthy = _failure is null;
        }
        try
        {
            if (healthy) await SyncAsync();
        }
        finally
        {
            CloseFiles();
        }
    }

    private void CloseFiles()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var segment in _segments)
            {
                segment.File?.Dispose();
                segment.File = null;
            }
            foreach (var pending in _staged) pending.Dispose();
            _staged.Clear();
            _spare?.Dispose();
            _spare = null;
        }
    }
}
