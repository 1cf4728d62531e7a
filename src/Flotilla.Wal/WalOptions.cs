namespace Flotilla.Wal;

/// <summary>How a <see cref="WriteAheadLog"/> lays out its files. Defaults suit a real disk; tests shrink the sizes.</summary>
public sealed record WalOptions
{
    public const long MiB = 1024 * 1024;

    /// <summary>Target size of one segment file. A segment is sealed when the next record would cross it; a single
    /// record larger than this gets a segment of its own.</summary>
    public long SegmentBytes { get; init; } = 64 * MiB;

    /// <summary>Zero-fill each new segment to <see cref="SegmentBytes"/> when it is created, so later fsyncs only carry
    /// data, not block allocation and file-size metadata.</summary>
    public bool Preallocate { get; init; } = true;

    /// <summary>Largest record (frame header included), checked before anything is staged. Recovery does not use it:
    /// it reads whole segments and bounds a record by the file, so reopening with a smaller limit loses nothing.</summary>
    public int RecordBytesMax { get; init; } = (int)(64 * MiB);

    /// <summary>Most bytes that may be staged between two <see cref="WriteAheadLog.SyncAsync"/> calls.</summary>
    public long StagedBytesMax { get; init; } = 256 * MiB;

    /// <summary>Directory (inside the file system) that holds the segments.</summary>
    public string Directory { get; init; } = "wal";

    internal void Validate()
    {
        if (SegmentBytes < 4096) throw new ArgumentOutOfRangeException(nameof(SegmentBytes), SegmentBytes, "must be at least 4096");
        if (RecordBytesMax < 256) throw new ArgumentOutOfRangeException(nameof(RecordBytesMax), RecordBytesMax, "must be at least 256");
        if (StagedBytesMax < RecordBytesMax) throw new ArgumentOutOfRangeException(nameof(StagedBytesMax), StagedBytesMax, "must be at least RecordBytesMax");
        if (string.IsNullOrEmpty(Directory) || Directory.StartsWith('/') || Directory.EndsWith('/'))
            throw new ArgumentException($"'{Directory}' is not a relative directory name", nameof(Directory));
    }
}
