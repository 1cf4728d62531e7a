using Flotilla.Runtime.Storage;
using Flotilla.Wal.Format;

namespace Flotilla.Wal;

/// <summary>
/// Reads every segment in sequence order, replays the records of its complete batches into a <see cref="LogModel"/>,
/// and repairs a torn tail so appending can resume. Refuses (with <see cref="WalCorruptionException"/>) anything
/// that could hide the loss of synced data: damage that a torn last write cannot explain, a log that ends before
/// the segment the manifest names, a segment shorter than it was preallocated or than its successor says it was,
/// and a missing segment the snapshot mark does not cover.
/// </summary>
internal static partial class WalRecoverer
{
    public static async ValueTask<(WriteAheadLog Log, WalRecovery Recovery)> OpenAsync(IFileSystem fs, WalOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        fs = FlushWatchingFileSystem.Wrap(fs);
        var directory = options.Directory;
        var files = ListSegments(fs, directory);
        var directoryDirty = false;
        // A spare segment being prepared, or a manifest being replaced, when the process stopped: neither holds data.
        foreach (var leftover in new[] { WriteAheadLog.SpareName(directory), Manifest.FileName(directory) + ".tmp" })
        {
            if (!fs.Exists(leftover)) continue;
            fs.Delete(leftover);
            directoryDirty = true;
        }
        var manifest = await Manifest.ReadAsync(fs, directory, ct);
        if (manifest is null)
        {
            if (files.Count > 0) await ThrowMissingManifestAsync(fs, directory, files, ct);
            // A new log: the manifest exists before any segment does, so segments without one always mean damage.
            manifest = new Manifest(0, 0);
            await manifest.Value.WriteAsync(fs, directory, ct);
            directoryDirty = false;
        }
        var durable = manifest.Value;
        CheckManifestSegmentExists(directory, durable, files);

        var model = new LogModel(keepData: true);
        var segments = new List<Segment>();
        var holes = new List<Hole>();
        string? unfinished = null;
        SegmentScan? tailScan = null;

        for (var i = 0; i < files.Count; i++)
        {
            var (name, sequence, firstIndex) = files[i];
            var isLast = i == files.Count - 1;
            // Only the last segment, and only if the manifest does not name it yet, may be unfinished: its creation
            // (or its first batch) was cut short, so nothing in it was ever acknowledged.
            var mayBeUnfinished = isLast && sequence > durable.LastSequence;
            var lost = sequence == durable.LastSequence ? "; the manifest says it is the last durable segment, so acknowledged data is lost" : "";
            var file = fs.Open(name, create: false);
            var keepOpen = false;
            try
            {
                using var image = await SegmentImage.ReadAsync(file, ct);
                var scan = SegmentScanner.Scan(image.Span);
                if (scan.Header is not { } headerRecord)
                {
                    if (mayBeUnfinished && scan.Refusal is null)
                    {
                        unfinished = name;
                        continue;
                    }
                    throw new WalCorruptionException(name, 0, $"{scan.DamageReason}{lost}{(isLast ? "" : " (and it is not the last segment)")}");
                }
                if (Payloads.TryReadSegmentHeader(image.Span.Slice(headerRecord.PayloadOffset, headerRecord.PayloadLength), out var header) is { } badHeader)
                    throw new WalCorruptionException(name, 0, badHeader);
                if (header.Sequence != sequence || header.FirstIndex != firstIndex)
                    throw new WalCorruptionException(name, 0, $"header says sequence {header.Sequence}, first index {header.FirstIndex}, which does not match the file name");
                if (header.AllocatedBytes > 0 && (ulong)image.Length < header.AllocatedBytes)
                {
                    if (mayBeUnfinished)
                    {
                        unfinished = name;
                        continue;
                    }
                    throw new WalCorruptionException(name, image.Length,
                        $"the segment is {image.Length} bytes but was preallocated to {header.AllocatedBytes}: it was truncated (a torn write never shortens a preallocated file){lost}");
                }
                if (scan.Batches.Count == 0)
                {
                    if (mayBeUnfinished && scan.Refusal is null)
                    {
                        unfinished = name;
                        continue;
                    }
                    throw new WalCorruptionException(name, scan.IsClean ? scan.ValidEnd : scan.DamageOffset,
                        $"the segment's first batch, durable before anything after it was written, is {(scan.IsClean ? "missing" : $"damaged ({scan.DamageReason})")}{lost}");
                }
                CheckChain(directory, segments.Count > 0 ? segments[^1] : null, name, header, holes);
                if (!scan.IsClean)
                {
                    if (!isLast)
                        throw new WalCorruptionException(name, scan.DamageOffset, $"{scan.DamageReason} in a sealed segment (only the last segment may have a torn tail)");
                    if (scan.Refusal is not null) throw new WalCorruptionException(name, scan.DamageOffset, scan.Refusal);
                }

                var segment = new Segment(name, sequence, firstIndex);
                model.SkipTo(firstIndex);
                foreach (var batch in scan.Batches)
                {
                    foreach (var record in batch.Records) Apply(name, segment, model, image.Span, record);
                }
                segment.StagedEnd = segment.DurableEnd = scan.ValidEnd;
                segments.Add(segment);
                if (isLast)
                {
                    if (!scan.IsClean) await RepairTailAsync(file, scan, header.AllocatedBytes > 0, ct);
                    tailScan = scan;
                    segment.File = file;
                    segment.HasBody = true;
                    keepOpen = true;
                }
            }
            finally
            {
                if (!keepOpen) file.Dispose();
            }
        }

        foreach (var hole in holes)
        {
            if (hole.CoveredUpTo > model.SnapshotIndex)
                throw new WalCorruptionException(hole.Missing, 0, $"the segment is missing; it held entries {(hole.FirstIndex > 0 ? $"{hole.FirstIndex}..{hole.CoveredUpTo}" : $"up to {hole.CoveredUpTo}")}, which the snapshot mark ({model.SnapshotIndex}) does not cover");
        }
        if (model.FinishRecovery() is { } missing)
            throw new WalCorruptionException(segments.Count > 0 ? segments[0].Name : directory, 0, missing);

        if (unfinished is not null)
        {
            fs.Delete(unfinished);
            directoryDirty = true;
        }
        // If the last file was an unfinished leftover, appending resumes in the segment before it.
        if (segments.Count > 0 && segments[^1].File is null)
        {
            segments[^1].File = fs.Open(segments[^1].Name, create: false);
            segments[^1].HasBody = true;
        }

        // Make what recovery reports durable (it may have been written but never fsynced before a process crash),
        // and any segment names too; then let the manifest name the last segment if a crash came between a
        // rotation and the manifest's update.
        if (segments.Count > 0 && segments[^1].File is { } tail) await tail.FlushAsync(ct);
        if (segments.Count > 0 || directoryDirty) await fs.SyncDirectoryAsync(ct);
        if (segments.Count > 0 && segments[^1].Sequence != durable.LastSequence)
        {
            try
            {
                await new Manifest(segments[^1].Sequence, segments[^1].FirstIndex).WriteAsync(fs, directory, ct);
            }
            catch (IOException e) when (DiskFull.Is(e))
            {
                // The last segment is intact and durable (its header was checked above); only the manifest's record of
                // it is behind, because a rotation ran out of space right after making it. Replacing the manifest needs
                // a block the full disk does not have: refusing to open here would stop reads too. Leave the manifest
                // one segment behind; the next rotation, or the next open with space, writes it. Until then, losing that
                // whole last segment would go unnoticed (docs/wal.md, "What is and is not detected").
                var temp = Manifest.FileName(directory) + ".tmp";
                if (fs.Exists(temp)) fs.Delete(temp);
            }
        }

        var torn = tailScan is { IsClean: false } ? tailScan : null;
        var recovery = new WalRecovery
        {
            Entries = model.Entries(),
            State = model.State,
            SnapshotIndex = model.SnapshotIndex,
            SnapshotTerm = model.SnapshotTerm,
            TornBytesDropped = torn?.TornBytes ?? 0,
            TornRecordsDropped = torn?.TornBatch?.RecordCount ?? 0,
            TornFirstIndex = torn?.TornBatch?.MinEntryIndex ?? 0,
            TornLastIndex = torn?.TornBatch?.MaxEntryIndex ?? 0,
            TornTail = torn is null ? null : DescribeTorn(segments[^1].Name, torn),
            SegmentCount = segments.Count,
        };
        var log = WriteAheadLog.Create(fs, options, model.WithoutData(), segments);
        if (segments.Count == 0) await log.StartFirstSegmentAsync(files.Count > 0 ? files[^1].Sequence : 0, ct);
        return (log, recovery);
    }

    private static string DescribeTorn(string name, SegmentScan scan)
    {
        var what = scan.TornBatch is { } batch
            ? $"the unacknowledged batch at byte {batch.Offset} of {name} ({batch.RecordCount} records{(batch.MaxEntryIndex > 0 ? $", entries {batch.MinEntryIndex}..{batch.MaxEntryIndex}" : ", no entries")})"
            : $"an unreadable batch record at byte {scan.ValidEnd} of {name} (no intact record)";
        return $"dropped a torn write: {what}, {scan.TornBytes} bytes; {scan.DamageReason} at byte {scan.DamageOffset}";
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

    /// <summary>
    /// Drops a torn tail so that new records are never followed by stale bytes that could later look like damage.
    /// A preallocated file keeps its size: the torn batch's body is zeroed and made durable first, then its batch
    /// record, so a crash in between leaves an intact batch record over zeros, or an unreadable one over zeros, both
    /// of which the next recovery drops again. A file that grows is cut at the end of the last complete batch.
    /// </summary>
    private static async ValueTask RepairTailAsync(IStorageFile file, SegmentScan scan, bool preallocated, CancellationToken ct)
    {
        if (!preallocated)
        {
            file.SetLength(scan.ValidEnd);
            await file.FlushAsync(ct);
            return;
        }
        var bodyStart = Math.Min(scan.TornBatch?.BodyStart ?? scan.ValidEnd, scan.DirtyEnd);
        if (bodyStart < scan.DirtyEnd)
        {
            await WriteAheadLog.ZeroFillAsync(file, bodyStart, scan.DirtyEnd);
            await file.FlushAsync(ct);
        }
        if (scan.ValidEnd < bodyStart)
        {
            await WriteAheadLog.ZeroFillAsync(file, scan.ValidEnd, bodyStart);
            await file.FlushAsync(ct);
        }
    }

    /// <summary>Applies one record of a complete batch to the model. A checksummed record that makes no sense where it
    /// is (an entry leaving a gap, a malformed payload) is corruption, not a torn write.</summary>
    private static void Apply(string name, Segment segment, LogModel model, ReadOnlySpan<byte> image, RecordRef record)
    {
        var payload = image.Slice(record.PayloadOffset, record.PayloadLength);
        switch (record.Type)
        {
            case RecordType.Entry:
            {
                if (Payloads.TryReadEntry(payload, out var index, out var term, out var data) is { } bad) throw new WalCorruptionException(name, record.Offset, bad);
                if (model.ApplyEntry(index, term, data) is { } wrong) throw new WalCorruptionException(name, record.Offset, wrong);
                segment.MaxEntryIndex = Math.Max(segment.MaxEntryIndex, index);
                break;
            }
            case RecordType.State:
                model.ApplyState(payload);
                break;
            case RecordType.Snapshot:
            {
                if (Payloads.TryReadSnapshot(payload, out var index, out var term, out var keep) is { } bad) throw new WalCorruptionException(name, record.Offset, bad);
                model.ApplySnapshot(index, term, keep);
                break;
            }
            default:
                throw new WalCorruptionException(name, record.Offset, $"unexpected {record.Type} record inside a segment");
        }
    }
}
