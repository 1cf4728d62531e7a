namespace Flotilla.Wal;

/// <summary>
/// Compaction deletes the oldest segments once the durable snapshot mark covers every entry in them. Crash safety
/// comes from three facts: the mark is durable before anything is deleted; every segment opens with the state and
/// mark current at its creation, so the surviving segments still carry the latest ones; and deletes go oldest
/// first, so a crash that keeps only some of them leaves a suffix of segments (recovery also tolerates a hole
/// below the snapshot mark).
/// </summary>
public sealed partial class WriteAheadLog
{
    /// <summary>Deletes whole segments holding only entries at or below the latest snapshot mark. Syncs first, so
    /// the mark that justifies the deletion is durable before the first delete.</summary>
    public async ValueTask CompactAsync(CancellationToken ct = default)
    {
        await SyncAsync(ct);
        var doomed = new List<Segment>();
        lock (_gate)
        {
            ThrowIfUnusable();
            // Never the last durable segment: it carries the latest state/mark for whatever follows.
            for (var i = 0; i + 1 < _segments.Count; i++)
            {
                var segment = _segments[i];
                var newer = _segments[i + 1];
                var sealedAndDurable = segment.StagedEnd == segment.DurableEnd && newer.DurableEnd > 0;
                if (!sealedAndDurable || segment.MaxEntryIndex > _durableSnapshotIndex) break;
                doomed.Add(segment);
            }
            if (doomed.Count == 0) return;
            _segments.RemoveRange(0, doomed.Count);
            foreach (var segment in doomed)
            {
                _sizeBytes -= segment.DurableEnd;
                segment.File?.Dispose();
                segment.File = null;
                _fs.Delete(segment.Name);
            }
        }
        await _fs.SyncDirectoryAsync(ct);
    }
}
