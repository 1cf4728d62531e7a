namespace Flotilla.Wal;

/// <summary>What <see cref="WriteAheadLog.OpenAsync"/> found on disk.</summary>
public sealed class WalRecovery
{
    /// <summary>Live entries (index &gt; <see cref="SnapshotIndex"/>), contiguous and in index order.</summary>
    public required IReadOnlyList<WalEntry> Entries { get; init; }

    /// <summary>The latest state saved with <see cref="WriteAheadLog.SaveState"/>; empty if none was ever saved.</summary>
    public required ReadOnlyMemory<byte> State { get; init; }

    /// <summary>The latest snapshot mark (0 if none).</summary>
    public required ulong SnapshotIndex { get; init; }

    public required ulong SnapshotTerm { get; init; }

    /// <summary>Bytes of a partially written (torn) last write that were discarded, from the start of its batch record
    /// to its last non-zero byte; 0 after a clean shutdown.</summary>
    public required long TornBytesDropped { get; init; }

    /// <summary>Records the dropped torn write was to hold (its batch record's count; 0 if the batch record itself was
    /// torn). None of them was acknowledged: a batch is acknowledged only once all of it is durable.</summary>
    public int TornRecordsDropped { get; init; }

    /// <summary>Lowest and highest entry index among the dropped records (both 0 if they held no entry or the count
    /// is unknown).</summary>
    public ulong TornFirstIndex { get; init; }

    public ulong TornLastIndex { get; init; }

    /// <summary>One line for a start-up log saying what a torn tail held and where it was; null when there was none.</summary>
    public string? TornTail { get; init; }

    /// <summary>Number of segment files the log was read from.</summary>
    public required int SegmentCount { get; init; }
}
