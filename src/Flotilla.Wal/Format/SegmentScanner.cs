namespace Flotilla.Wal.Format;

/// <summary>Receives each intact record of a segment in order. A record that is intact but makes no sense where it is
/// (checksummed, so not a torn write) is corruption: the visitor throws.</summary>
internal delegate void RecordVisitor(RecordType type, ReadOnlySpan<byte> payload, int offset);

/// <summary>What a scan of one segment found.</summary>
/// <param name="ValidEnd">Offset just past the last valid record: where appending resumes.</param>
/// <param name="DamageOffset">Offset of the first bad record, or -1 if the segment ends cleanly.</param>
/// <param name="DamageReason">Why that record is bad.</param>
/// <param name="ValidAfterDamage">Offset of a valid record found after the damage, or -1: if there is one, the
/// damage is not a torn tail but corruption of data that was once complete.</param>
/// <param name="DirtyEnd">Offset just past the last non-zero byte at or after <paramref name="ValidEnd"/>.</param>
internal readonly record struct SegmentScan(int ValidEnd, int DamageOffset, string? DamageReason, int ValidAfterDamage, int DirtyEnd)
{
    public bool IsClean => DamageOffset < 0;
    public long TornBytes => DirtyEnd - ValidEnd;
}

/// <summary>
/// Walks the records of one segment image. Stops at the first all-zero header (end of data in a zero-filled
/// segment) or at the end of the file; anything non-zero beyond that point is damage. Damage is then probed at
/// every aligned offset for a valid record, which distinguishes a torn tail (nothing valid after it) from
/// corruption in the middle (valid records after it).
/// </summary>
internal static class SegmentScanner
{
    public static SegmentScan Scan(ReadOnlySpan<byte> segment, int recordBytesMax, RecordVisitor visit)
    {
        var offset = 0;
        string? damage = null;
        while (offset < segment.Length)
        {
            if (RecordFrame.IsEndMarker(segment, offset)) break;
            damage = RecordFrame.TryRead(segment, offset, recordBytesMax, out var type, out var payload, out var size);
            if (damage is not null) break;
            visit(type, payload, offset);
            offset += size;
        }
        // The last record's padding may be missing from a file that was not preallocated; appending still resumes
        // at the aligned offset, so the end of valid data can lie (by up to 7 bytes) beyond the end of the file.
        var validEnd = offset;
        var lastNonZero = validEnd >= segment.Length ? -1 : segment[validEnd..].LastIndexOfAnyExcept((byte)0);
        var dirtyEnd = lastNonZero < 0 ? validEnd : validEnd + lastNonZero + 1;
        if (damage is null && dirtyEnd > validEnd) damage = "non-zero bytes after the end of the records";
        if (damage is null) return new SegmentScan(validEnd, -1, null, -1, validEnd);
        return new SegmentScan(validEnd, validEnd, damage, FindValidRecord(segment, validEnd + RecordFrame.Alignment, dirtyEnd, recordBytesMax), dirtyEnd);
    }

    private static int FindValidRecord(ReadOnlySpan<byte> segment, int from, int dirtyEnd, int recordBytesMax)
    {
        for (var probe = from; probe < dirtyEnd; probe += RecordFrame.Alignment)
        {
            if (RecordFrame.TryRead(segment, probe, recordBytesMax, out _, out _, out _) is null) return probe;
        }
        return -1;
    }
}
