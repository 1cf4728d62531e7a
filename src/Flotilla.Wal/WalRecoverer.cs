using Flotilla.Runtime.Storage;
using Flotilla.Wal.Format;

namespace Flotilla.Wal;

/// <summary>
/// Reads every segment in sequence order, replays its records into a <see cref="LogModel"/>, and repairs a torn
/// tail so appending can resume. Refuses (with <see cref="WalCorruptionException"/>) anything that could hide the
/// loss of synced data.
/// </summary>
internal static class WalRecoverer
{
    public static async ValueTask<(WriteAheadLog Log, WalRecovery Recovery)> OpenAsync(IFileSystem fs, WalOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var files = ListSegments(fs, options.Directory);
        var directoryDirty = false;
        // A spare segment being prepared when the process stopped: never holds data, start a fresh one.
        if (fs.Exists(WriteAheadLog.SpareName(options.Directory)))
        {
            fs.Delete(WriteAheadLog.SpareName(options.Directory));
            directoryDirty = true;
        }
        var model = new LogModel(keepData: true);
        var segments = new List<Segment>();
        long tornBytes = 0;

        for (var i = 0; i < files.Count; i++)
        {
            var (name, sequence, firstIndex) = files[i];
            var isLast = i == files.Count - 1;
            var segment = new Segment(name, sequence, firstIndex);
            var file = fs.Open(name, create: false);
            try
            {
                model.SkipTo(firstIndex);
                var scan = await ReadSegmentAsync(file, options, model, segment, ct);
                if (!scan.IsClean)
                {
                    if (scan.ValidAfterDamage >= 0)
                        throw new WalCorruptionException(name, scan.DamageOffset, $"{scan.DamageReason}; a valid record follows at byte {scan.ValidAfterDamage}");
                    if (!isLast)
                        throw new WalCorruptionException(name, scan.DamageOffset, $"{scan.DamageReason} in a sealed segment (only the last segment may have a torn tail)");
                    tornBytes = scan.TornBytes;
                }
                segment.StagedEnd = segment.DurableEnd = scan.ValidEnd;
                if (scan.ValidEnd == 0)
                {
                    // No intact header: a segment whose creation was cut short. Only the last one may be like that.
                    if (!isLast) throw new WalCorruptionException(name, 0, "segment has no header");
                    file.Dispose();
                    fs.Delete(name);
                    directoryDirty = true;
                    continue;
                }
                segments.Add(segment);
                if (isLast)
                {
                    await RepairTailAsync(file, scan, options, ct);
                    segment.File = file;
                    segment.HasBody = true;
                }
                else
                {
                    file.Dispose();
                }
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        if (model.FinishRecovery() is { } missing)
            throw new WalCorruptionException(segments.Count > 0 ? segments[0].Name : options.Directory, 0, missing);

        // If the last file was a headerless leftover, appending resumes in the segment before it.
        if (segments.Count > 0 && segments[^1].File is null)
        {
            segments[^1].File = fs.Open(segments[^1].Name, create: false);
            segments[^1].HasBody = true;
        }

        // Make what recovery reports durable (it may have been written but never fsynced before a process crash),
        // and any segment names too.
        if (segments.Count > 0 && segments[^1].File is { } tail) await tail.FlushAsync(ct);
        if (segments.Count > 0 || directoryDirty) await fs.SyncDirectoryAsync(ct);

        var recovery = new WalRecovery
        {
            Entries = model.Entries(),
            State = model.State,
            SnapshotIndex = model.SnapshotIndex,
            SnapshotTerm = model.SnapshotTerm,
            TornBytesDropped = tornBytes,
            SegmentCount = segments.Count,
        };
        var log = WriteAheadLog.Create(fs, options, model.WithoutData(), segments);
        if (segments.Count == 0) await log.StartFirstSegmentAsync(files.Count > 0 ? files[^1].Sequence : 0, ct);
        return (log, recovery);
    }

    private static List<(string Name, ulong Sequence, ulong FirstIndex)> ListSegments(IFileSystem fs, string directory)
    {
        var files = new List<(string Name, ulong Sequence, ulong FirstIndex)>();
        foreach (var name in fs.List(directory + "/"))
        {
            if (SegmentName.TryParse(directory, name, out var sequence, out var firstIndex)) files.Add((name, sequence, firstIndex));
        }
        files.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return files;
    }

    private static async ValueTask<SegmentScan> ReadSegmentAsync(IStorageFile file, WalOptions options, LogModel model, Segment segment, CancellationToken ct)
    {
        using var image = await SegmentImage.ReadAsync(file, ct);
        var replay = new SegmentReplay(file.Name, segment, model);
        // Reading trusts no length beyond the file itself (which is already in memory), not RecordBytesMax: a log
        // written with a larger limit must not have its last, synced record mistaken for a torn one.
        return SegmentScanner.Scan(image.Span, int.MaxValue, replay.Visit);
    }

    /// <summary>Drops a torn tail: zeroes it (preallocated files keep their size) or cuts the file at the last
    /// valid record, so that new records are never followed by stale bytes that could later look like damage.</summary>
    private static async ValueTask RepairTailAsync(IStorageFile file, SegmentScan scan, WalOptions options, CancellationToken ct)
    {
        if (scan.IsClean) return;
        if (options.Preallocate) await WriteAheadLog.ZeroFillAsync(file, scan.ValidEnd, scan.DirtyEnd);
        else file.SetLength(scan.ValidEnd);
        await file.FlushAsync(ct);
    }

    /// <summary>Applies one segment's records to the model, checking that the segment starts with its own header.</summary>
    private sealed class SegmentReplay(string name, Segment segment, LogModel model)
    {
        private bool _sawHeader;

        public void Visit(RecordType type, ReadOnlySpan<byte> payload, int offset)
        {
            if (!_sawHeader)
            {
                if (type != RecordType.SegmentHeader) throw new WalCorruptionException(name, offset, $"segment starts with a {type} record, not a header");
                if (Payloads.TryReadSegmentHeader(payload, out var sequence, out var firstIndex) is { } bad) throw new WalCorruptionException(name, offset, bad);
                if (sequence != segment.Sequence || firstIndex != segment.FirstIndex)
                    throw new WalCorruptionException(name, offset, $"header says sequence {sequence}, first index {firstIndex}, which does not match the file name");
                _sawHeader = true;
                return;
            }
            switch (type)
            {
                case RecordType.Entry:
                {
                    if (Payloads.TryReadEntry(payload, out var index, out var term, out var data) is { } bad) throw new WalCorruptionException(name, offset, bad);
                    if (model.ApplyEntry(index, term, data) is { } wrong) throw new WalCorruptionException(name, offset, wrong);
                    segment.MaxEntryIndex = Math.Max(segment.MaxEntryIndex, index);
                    break;
                }
                case RecordType.State:
                    model.ApplyState(payload);
                    break;
                case RecordType.Snapshot:
                {
                    if (Payloads.TryReadSnapshot(payload, out var index, out var term, out var keep) is { } bad) throw new WalCorruptionException(name, offset, bad);
                    model.ApplySnapshot(index, term, keep);
                    break;
                }
                default:
                    throw new WalCorruptionException(name, offset, $"unexpected {type} record inside a segment");
            }
        }
    }
}
