namespace Flotilla.Wal.Format;

/// <summary>The decoded header record of a segment.</summary>
/// <param name="AllocatedBytes">Length the file was zero-filled to before the header was written (0 = not
/// preallocated). A torn write never shortens a preallocated file, so a shorter one was truncated.</param>
/// <param name="PrevSequence">Sequence of the segment before this one when it was created (0 = none).</param>
/// <param name="PrevFirstIndex">That segment's first index: with <paramref name="PrevSequence"/> its exact file name.</param>
/// <param name="PrevEndBytes">Where that segment's records ended: it is never written again, so it must still end there.</param>
internal readonly record struct SegmentHeader(ulong Sequence, ulong FirstIndex, ulong AllocatedBytes, ulong PrevSequence, ulong PrevFirstIndex, ulong PrevEndBytes);
