using Flotilla.Runtime.Storage;

namespace Flotilla.Wal;

/// <summary>One segment file and the writer's bookkeeping for it.</summary>
internal sealed class Segment(string name, ulong sequence, ulong firstIndex)
{
    public string Name { get; } = name;
    public ulong Sequence { get; } = sequence;
    public ulong FirstIndex { get; } = firstIndex;

    /// <summary>Open handle; null until the flush loop creates the file (or after compaction closes it).</summary>
    public IStorageFile? File { get; set; }

    /// <summary>Where the next staged record goes.</summary>
    public long StagedEnd { get; set; }

    /// <summary>Bytes written and fsynced (and, for a new file, its directory entry synced).</summary>
    public long DurableEnd { get; set; }

    /// <summary>Highest entry index of any entry record in this segment (0 if none): compaction may delete the
    /// segment once the durable snapshot mark reaches it.</summary>
    public ulong MaxEntryIndex { get; set; }

    /// <summary>True once a record other than the opening header/state/snapshot was staged here; a record that does
    /// not fit only rotates to a new segment if this one holds something, so an oversized record still gets written.</summary>
    public bool HasBody { get; set; }

    public override string ToString() => Name;
}
