namespace Flotilla.Wal.Format;

/// <summary>The kinds of record a segment holds. Values are on disk: never renumber.</summary>
internal enum RecordType : byte
{
    /// <summary>First record of every segment: magic, format version, sequence number, first index.</summary>
    SegmentHeader = 1,
    /// <summary>A log entry: index, term, data. An index at or below the current last index truncates the suffix.</summary>
    Entry = 2,
    /// <summary>Raft hard state, opaque; the latest one wins.</summary>
    State = 3,
    /// <summary>Snapshot mark: index, term, and whether entries after the index were kept.</summary>
    Snapshot = 4,
}
