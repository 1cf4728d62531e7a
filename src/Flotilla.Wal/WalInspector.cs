using Flotilla.Runtime.Storage;
using Flotilla.Wal.Format;

namespace Flotilla.Wal;

/// <summary>One record as <see cref="WalInspector"/> reports it. Index/Term are set for entries and snapshot marks.</summary>
public sealed record WalRecordInfo(long Offset, string Type, int Bytes, ulong? Index, ulong? Term, int DataBytes);

/// <summary>One segment file as found on disk. <see cref="Problem"/> describes a torn tail or damage, if any.</summary>
public sealed record WalSegmentInfo(string Name, ulong Sequence, ulong FirstIndex, long FileBytes, long ValidBytes,
    IReadOnlyList<WalRecordInfo> Records, string? Problem);

/// <summary>
/// Read-only listing of a WAL directory for tools (<c>flotilla wal inspect DIR</c>) and tests: every segment and
/// record with its offset, and what recovery would say about damage. Changes nothing on disk and never throws for
/// damage (it reports it).
/// </summary>
public static class WalInspector
{
    public static async ValueTask<IReadOnlyList<WalSegmentInfo>> InspectAsync(IFileSystem fs, string directory = "wal", CancellationToken ct = default)
    {
        var result = new List<WalSegmentInfo>();
        var names = fs.List(directory + "/");
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (!SegmentName.TryParse(directory, name, out var sequence, out var firstIndex)) continue;
            using var file = fs.Open(name, create: false);
            using var image = await SegmentImage.ReadAsync(file, ct);
            var scan = SegmentScanner.Scan(image.Span);
            var records = new List<WalRecordInfo>();
            if (scan.Header is { } header) records.Add(Describe(image.Span, header));
            foreach (var batch in scan.TornBatch is null ? scan.Batches : [.. scan.Batches, scan.TornBatch])
            {
                records.Add(new WalRecordInfo(batch.Offset, "batch", batch.BodyStart - batch.Offset, null, null, batch.BodyEnd - batch.BodyStart));
                foreach (var record in batch.Records) records.Add(Describe(image.Span, record));
            }
            string? problem = null;
            if (!scan.IsClean)
            {
                problem = scan.Refusal is not null
                    ? $"corrupt at byte {scan.DamageOffset}: {scan.Refusal}"
                    : $"torn tail at byte {scan.DamageOffset}: {scan.DamageReason} (drops {scan.TornBatch?.RecordCount ?? 0} records from byte {scan.ValidEnd}, {scan.TornBytes} bytes)";
            }
            result.Add(new WalSegmentInfo(name, sequence, firstIndex, image.Length, scan.ValidEnd, records, problem));
        }
        return result;
    }

    private static WalRecordInfo Describe(ReadOnlySpan<byte> image, RecordRef record)
    {
        var payload = image.Slice(record.PayloadOffset, record.PayloadLength);
        var (offset, bytes) = ((long)record.Offset, RecordFrame.FrameBytes(payload.Length));
        switch (record.Type)
        {
            case RecordType.Entry when Payloads.TryReadEntry(payload, out var index, out var term, out var data) is null:
                return new WalRecordInfo(offset, "entry", bytes, index, term, data.Length);
            case RecordType.Snapshot when Payloads.TryReadSnapshot(payload, out var index, out var term, out _) is null:
                return new WalRecordInfo(offset, "snapshot", bytes, index, term, 0);
            case RecordType.State:
                return new WalRecordInfo(offset, "state", bytes, null, null, payload.Length);
            case RecordType.SegmentHeader:
                return new WalRecordInfo(offset, "header", bytes, null, null, 0);
            default:
                return new WalRecordInfo(offset, $"malformed {record.Type}", bytes, null, null, payload.Length);
        }
    }
}
