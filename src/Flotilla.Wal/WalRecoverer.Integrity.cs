using Flotilla.Runtime.Storage;
using Flotilla.Wal.Format;

namespace Flotilla.Wal;

/// <summary>
/// The checks that tell a lost tail or a hole from a shorter log: the manifest's segment must exist, segments must
/// chain (each header names its predecessor and where that one ended), and missing segments must be covered by the
/// snapshot mark. Without them a deleted or emptied last segment read as a clean end (acknowledged data gone).
/// </summary>
internal static partial class WalRecoverer
{
    /// <summary>Missing segments between two present ones (or before the first): acceptable only if the snapshot
    /// mark covers every entry they can have held, i.e. everything below the next segment's first index.</summary>
    private sealed record Hole(string Missing, ulong FirstIndex, ulong CoveredUpTo);

    /// <summary>The manifest names the last segment made durable; a log that does not reach it lost its tail.</summary>
    private static void CheckManifestSegmentExists(string directory, Manifest durable, List<(string Name, ulong Sequence, ulong FirstIndex)> files)
    {
        if (durable.LastSequence == 0) return;
        var expected = SegmentName.Format(directory, durable.LastSequence, durable.LastFirstIndex);
        var found = files.FindIndex(f => f.Sequence == durable.LastSequence);
        if (found < 0)
        {
            var reached = files.Count == 0 ? "no segment is left" : $"the log ends with {files[^1].Name}";
            throw new WalCorruptionException(expected, 0,
                $"the segment is missing ({reached}), but the manifest says it is the last durable segment: acknowledged entries from {durable.LastFirstIndex} on are lost");
        }
        if (files[found].Name != expected)
            throw new WalCorruptionException(files[found].Name, 0, $"the manifest says the last durable segment is {expected}");
    }

    /// <summary>Checks a segment against the one before it on disk: consecutive segments must chain (the predecessor
    /// still ends where it ended when it was sealed); a gap in the sequence is a hole, checked once the final
    /// snapshot mark is known.</summary>
    private static void CheckChain(string directory, Segment? previous, string name, in SegmentHeader header, List<Hole> holes)
    {
        var missingName = header.PrevSequence == 0 ? null : SegmentName.Format(directory, header.PrevSequence, header.PrevFirstIndex);
        var coveredUpTo = header.FirstIndex - 1;
        if (previous is null)
        {
            // The segments before this one were compacted away (or lost): fine if the snapshot mark covers them.
            if (missingName is not null) holes.Add(new Hole(missingName, header.PrevFirstIndex, coveredUpTo));
            return;
        }
        if (header.Sequence != previous.Sequence + 1)
        {
            var count = header.Sequence - previous.Sequence - 1;
            holes.Add(count == 1 && missingName is not null
                ? new Hole(missingName, header.PrevFirstIndex, coveredUpTo)
                : new Hole($"{directory}/{previous.Sequence + 1:x16}..{header.Sequence - 1:x16} ({count} segments between {previous.Name} and {name})", 0, coveredUpTo));
            return;
        }
        if (header.PrevSequence != previous.Sequence || header.PrevFirstIndex != previous.FirstIndex)
            throw new WalCorruptionException(name, 0, $"its header says it follows {missingName ?? "no segment"}, not {previous.Name}");
        if (header.PrevEndBytes != (ulong)previous.DurableEnd)
            throw new WalCorruptionException(previous.Name, previous.DurableEnd,
                $"the segment's records end at byte {previous.DurableEnd}, but {name} says they ended at byte {header.PrevEndBytes} when it was sealed: its last batches were cut off or zeroed");
    }

    private static async ValueTask ThrowMissingManifestAsync(IFileSystem fs, string directory, List<(string Name, ulong Sequence, ulong FirstIndex)> files, CancellationToken ct)
    {
        // An older format has no manifest: say so rather than calling it damage.
        using (var file = fs.Open(files[0].Name, create: false))
        using (var image = await SegmentImage.ReadAsync(file, ct))
        {
            if (RecordFrame.TryRead(image.Span, 0, int.MaxValue, out var type, out var payload, out _) is null && type == RecordType.SegmentHeader
                && Payloads.TryReadSegmentHeader(payload, out _) is { } problem && problem.Contains("version", StringComparison.Ordinal))
                throw new WalCorruptionException(files[0].Name, 0, problem);
        }
        throw new WalCorruptionException(Manifest.FileName(directory), 0,
            $"the manifest is missing but {files.Count} segment(s) exist ({files[0].Name} .. {files[^1].Name}): without it a lost tail cannot be detected");
    }
}
