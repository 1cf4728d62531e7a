namespace Flotilla.Wal.Format;

/// <summary>The kinds of record a segment holds. Values are on disk: never renumber.</summary>
internal enum RecordType : byte
{
    /// <summary>First record of every segment: magic, format version, sequence number, first index, preallocated
    /// length, and the predecessor's sequence, first index and final length (the chain recovery checks).</summary>
    SegmentHeader = 1,
    /// <summary>A log entry: index, term, data. An index at or below the current last index truncates the suffix.</summary>
    Entry = 2,
    /// <summary>Raft hard state, opaque; the latest one wins.</summary>
    State = 3,
    /// <summary>Snapshot mark: index, term, and whether entries after the index were kept.</summary>
    Snapshot = 4,
    /// <summary>Opens one write of a batch: how many bytes and records follow, and the entry indices among them.
    /// Every record after the segment header belongs to exactly one batch.</summary>
    Batch = 5,
}
