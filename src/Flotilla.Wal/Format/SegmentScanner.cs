namespace Flotilla.Wal.Format;

/// <summary>One intact record inside a segment image.</summary>
internal readonly record struct RecordRef(RecordType Type, int Offset, int PayloadOffset, int PayloadLength, int AlignedBytes);

/// <summary>One batch record (the start of one write) and what it says follows it.</summary>
internal sealed record BatchInfo(int Offset, int BodyStart, int BodyEnd, int RecordCount, ulong MinEntryIndex, ulong MaxEntryIndex)
{
    public List<RecordRef> Records { get; } = [];
}

/// <summary>What a scan of one segment found.</summary>
internal sealed class SegmentScan
{
    /// <summary>The header record, or null if the segment has no intact header (then nothing else was read).</summary>
    public RecordRef? Header { get; set; }

    /// <summary>Batches whose every record is intact, in order.</summary>
    public List<BatchInfo> Batches { get; } = [];

    /// <summary>Offset just past the last complete batch (or the header): where appending resumes. May lie up to 7
    /// bytes past the end of a non-preallocated file (the last record's padding is not written out).</summary>
    public int ValidEnd { get; set; }

    /// <summary>Offset of the first bad or missing byte, or -1 if the segment ends cleanly.</summary>
    public int DamageOffset { get; set; } = -1;

    public string? DamageReason { get; set; }

    /// <summary>The batch the damage lies in, if its batch record is intact: a torn write of that batch.</summary>
    public BatchInfo? TornBatch { get; set; }

    /// <summary>Offset just past the last non-zero byte at or after <see cref="ValidEnd"/>.</summary>
    public int DirtyEnd { get; set; }

    /// <summary>Why the damage cannot be a torn write (so the segment is corrupt even as the last one); null if it can.</summary>
    public string? Refusal { get; set; }

    public bool IsClean => DamageOffset < 0;
    public long TornBytes => DirtyEnd - ValidEnd;
}

/// <summary>
/// Walks the records of one segment image: the header, then batches, each a batch record followed by exactly the
/// bytes and records it announces. Stops at the first all-zero header at a batch boundary (end of data in a
/// zero-filled segment) or at the end of the file. Only complete batches count: a write is acknowledged only after
/// it is whole on disk, so a batch that is not whole was never acknowledged and may be dropped as a torn tail.
/// <para>A torn tail must look like what a power cut during the last write leaves: the damage lies inside the last
/// batch (or is its unreadable batch record), and nothing but zeros or garbage without a single valid record
/// follows, up to the end of the 4 KiB block the write ended in (a sector being written may hold garbage).
/// Anything else, like a valid record beyond it, or a checksummed record that contradicts its batch, is
/// corruption of data that was once complete (<see cref="SegmentScan.Refusal"/>).</para>
/// </summary>
internal static class SegmentScanner
{
    /// <summary>Garbage from a sector being written at the power cut may reach the end of this block.</summary>
    public const int TearBlockBytes = 4096;

    public static SegmentScan Scan(ReadOnlySpan<byte> segment)
    {
        var scan = new SegmentScan();
        if (segment.Length == 0) return Finish(segment, scan, 0, "the segment is empty (0 bytes)");
        if (RecordFrame.TryRead(segment, 0, int.MaxValue, out var headerType, out var headerPayload, out var headerSize) is { } bad)
            return Finish(segment, scan, 0, RecordFrame.IsEndMarker(segment, 0) ? "the segment has no header (its first record is zeros)" : $"no intact header: {bad}");
        if (headerType != RecordType.SegmentHeader)
        {
            scan.Refusal = $"segment starts with a {headerType} record, not a header";
            return Finish(segment, scan, 0, scan.Refusal);
        }
        scan.Header = Ref(segment, RecordType.SegmentHeader, 0, headerPayload, headerSize);
        var offset = headerSize;

        while (offset < segment.Length && !RecordFrame.IsEndMarker(segment, offset))
        {
            if (RecordFrame.TryRead(segment, offset, int.MaxValue, out var type, out var payload, out var size) is { } damage)
                return Finish(segment, scan, offset, damage);
            if (type != RecordType.Batch)
            {
                scan.Refusal = $"a {type} record at byte {offset} lies outside any batch";
                return Finish(segment, scan, offset, scan.Refusal);
            }
            if (Payloads.TryReadBatch(payload, out var bodyBytes, out var count, out var minIndex, out var maxIndex) is { } malformed)
            {
                scan.Refusal = malformed;
                return Finish(segment, scan, offset, malformed);
            }
            var batch = new BatchInfo(offset, offset + size, offset + size + (int)bodyBytes, (int)count, minIndex, maxIndex);
            var at = batch.BodyStart;
            while (at < batch.BodyEnd)
            {
                if (at >= segment.Length || RecordFrame.IsEndMarker(segment, at))
                    return Torn(segment, scan, batch, at, $"the batch at byte {batch.Offset} ends early (record {batch.Records.Count + 1} of {count} is missing)");
                if (RecordFrame.TryRead(segment, at, int.MaxValue, out type, out payload, out size) is { } torn)
                    return Torn(segment, scan, batch, at, torn);
                if (type is RecordType.Batch or RecordType.SegmentHeader)
                {
                    scan.Refusal = $"a {type} record at byte {at} lies inside the batch at byte {batch.Offset}";
                    return Finish(segment, scan, at, scan.Refusal);
                }
                if (at + size > batch.BodyEnd)
                {
                    scan.Refusal = $"the record at byte {at} crosses the end of the batch at byte {batch.Offset}";
                    return Finish(segment, scan, at, scan.Refusal);
                }
                batch.Records.Add(Ref(segment, type, at, payload, size));
                at += size;
            }
            if (batch.Records.Count != batch.RecordCount)
            {
                scan.Refusal = $"the batch at byte {batch.Offset} announces {batch.RecordCount} records but holds {batch.Records.Count}";
                return Finish(segment, scan, batch.Offset, scan.Refusal);
            }
            scan.Batches.Add(batch);
            offset = batch.BodyEnd;
        }
        scan.ValidEnd = offset;
        scan.DirtyEnd = DirtyEndFrom(segment, offset);
        if (scan.DirtyEnd > offset) return Finish(segment, scan, offset, "non-zero bytes after the end of the records");
        return scan;
    }

    private static RecordRef Ref(ReadOnlySpan<byte> segment, RecordType type, int offset, ReadOnlySpan<byte> payload, int size) =>
        new(type, offset, offset + RecordFrame.HeaderBytes, payload.Length, size);

    private static int DirtyEndFrom(ReadOnlySpan<byte> segment, int from)
    {
        var lastNonZero = from >= segment.Length ? -1 : segment[from..].LastIndexOfAnyExcept((byte)0);
        return lastNonZero < 0 ? from : from + lastNonZero + 1;
    }

    private static int BlockEnd(long offset) => (int)Math.Min(int.MaxValue, (offset + TearBlockBytes - 1) / TearBlockBytes * TearBlockBytes);

    /// <summary>Damage inside a batch whose batch record is intact: a torn write of that batch, if nothing valid follows
    /// it and the damage ends within the block the batch ends in.</summary>
    private static SegmentScan Torn(ReadOnlySpan<byte> segment, SegmentScan scan, BatchInfo batch, int damageOffset, string reason)
    {
        scan.TornBatch = batch;
        scan.ValidEnd = batch.Offset;
        scan.DamageOffset = damageOffset;
        scan.DamageReason = reason;
        scan.DirtyEnd = Math.Max(DirtyEndFrom(segment, batch.Offset), batch.Offset);
        var valid = FindValidRecord(segment, Math.Max(damageOffset + RecordFrame.Alignment, batch.BodyEnd), scan.DirtyEnd);
        if (valid >= 0) scan.Refusal = $"{reason}; a valid record follows at byte {valid}, so this is not a torn write";
        else if (scan.DirtyEnd > BlockEnd(batch.BodyEnd))
            scan.Refusal = $"{reason}; non-zero bytes reach byte {scan.DirtyEnd}, beyond the batch at byte {batch.Offset} (which ends at byte {batch.BodyEnd}), so this is not a torn write";
        return scan;
    }

    /// <summary>Damage at a batch boundary (an unreadable batch record, or non-zero bytes where the data should end).</summary>
    private static SegmentScan Finish(ReadOnlySpan<byte> segment, SegmentScan scan, int damageOffset, string reason)
    {
        scan.ValidEnd = damageOffset;
        scan.DamageOffset = damageOffset;
        scan.DamageReason = reason;
        scan.DirtyEnd = DirtyEndFrom(segment, damageOffset);
        if (scan.Refusal is not null) return scan;
        var valid = FindValidRecord(segment, damageOffset + RecordFrame.Alignment, scan.DirtyEnd);
        if (valid >= 0) scan.Refusal = $"{reason}; a valid record follows at byte {valid}, so this is not a torn write";
        else if (scan.DirtyEnd > BlockEnd(damageOffset + RecordFrame.AlignedSize(RecordFrame.FrameBytes(Payloads.BatchBytes))))
            scan.Refusal = $"{reason}; non-zero bytes reach byte {scan.DirtyEnd}, beyond any write that could have been torn there";
        return scan;
    }

    private static int FindValidRecord(ReadOnlySpan<byte> segment, int from, int dirtyEnd)
    {
        for (var probe = from; probe < dirtyEnd; probe += RecordFrame.Alignment)
        {
            if (RecordFrame.TryRead(segment, probe, int.MaxValue, out _, out _, out _) is null) return probe;
        }
        return -1;
    }
}
