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

    /// <summary>Bytes of a partially written (torn) tail that were discarded; 0 after a clean shutdown.</summary>
    public required long TornBytesDropped { get; init; }

    /// <summary>Number of segment files the log was read from.</summary>
    public required int SegmentCount { get; init; }
}
