namespace Flotilla.Raft;

/// <summary>
/// The in-memory Raft log: a snapshot position followed by the entries after it, the commit and apply indexes,
/// and the bookkeeping of which entries are durable. The core keeps every entry since the last snapshot in memory;
/// the driver's storage is only for durability, so the log is bounded by how often the service snapshots.
/// </summary>
public sealed class RaftLog
{
    private readonly List<LogEntry> _entries = new();

    public RaftLog(RaftSnapshot? snapshot, IReadOnlyList<LogEntry> entries, ulong commit)
    {
        if (snapshot is not null)
        {
            SnapshotIndex = snapshot.Index;
            SnapshotTerm = snapshot.Term;
        }
        foreach (var e in entries)
        {
            if (e.Index <= SnapshotIndex) continue;
            if (e.Index != LastIndex + 1) throw new InvalidDataException($"stored log has a gap: {e.Index} after {LastIndex}");
            _entries.Add(e);
        }
        Committed = Math.Clamp(commit, SnapshotIndex, LastIndex);
        Applied = SnapshotIndex;
        StableIndex = LastIndex;
        PersistFrom = LastIndex + 1;
    }

    public ulong SnapshotIndex { get; private set; }
    public ulong SnapshotTerm { get; private set; }
    public ulong Committed { get; private set; }

    /// <summary>Entries up to here were handed to the application.</summary>
    public ulong Applied { get; private set; }

    /// <summary>Entries up to here are durable in this node's storage (what a leader may count for itself).</summary>
    public ulong StableIndex { get; private set; }

    /// <summary>The first entry not yet handed to the driver for persistence.</summary>
    public ulong PersistFrom { get; private set; }

    public ulong FirstIndex => SnapshotIndex + 1;
    public ulong LastIndex => SnapshotIndex + (ulong)_entries.Count;
    public ulong LastTerm => _entries.Count == 0 ? SnapshotTerm : _entries[^1].Term;
    public int Count => _entries.Count;

    /// <summary>The term of the entry at <paramref name="index"/>, or null when it is compacted or beyond the end.</summary>
    public ulong? TermAt(ulong index)
    {
        if (index == SnapshotIndex) return SnapshotTerm;
        if (index < SnapshotIndex || index > LastIndex) return null;
        return _entries[(int)(index - SnapshotIndex - 1)].Term;
    }

    public LogEntry EntryAt(ulong index) => _entries[(int)(index - SnapshotIndex - 1)];

    public bool MatchTerm(ulong index, ulong term) => TermAt(index) == term;

    /// <summary>§5.4.1: a candidate's log is at least as up-to-date as ours.</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>Entries in [from, to) up to <paramref name="maxBytes"/> (at least one); empty when from is past the end.</summary>
    public IReadOnlyList<LogEntry> Slice(ulong from, ulong to, long maxBytes)
    {
        if (from <= SnapshotIndex) throw new InvalidOperationException($"entries from {from} are compacted (snapshot {SnapshotIndex})");
        to = Math.Min(to, LastIndex + 1);
        if (from >= to) return [];
        var result = new List<LogEntry>();
        long bytes = 0;
        for (var i = from; i < to; i++)
        {
            var e = EntryAt(i);
            bytes += e.SizeBytes;
            if (result.Count > 0 && bytes > maxBytes) break;
            result.Add(e);
        }
        return result;
    }

    /// <summary>Appends at the end (the leader's own proposals).</summary>
    public void Append(LogEntry entry)
    {
        if (entry.Index != LastIndex + 1) throw new InvalidOperationException($"append at {entry.Index} after {LastIndex}");
        _entries.Add(entry);
    }

    /// <summary>
    /// The follower side of AppendEntries (Figure 2, receiver rules 2–5): if the log matches at (prevIndex, prevTerm),
    /// delete any conflicting suffix, append what is new, advance commit. Returns the index of the last new entry, or
    /// null when the log does not match.
    /// </summary>
    public ulong? MaybeAppend(ulong prevIndex, ulong prevTerm, ulong leaderCommit, IReadOnlyList<LogEntry> entries)
    {
        if (!MatchTerm(prevIndex, prevTerm)) return null;
        var lastNew = prevIndex + (ulong)entries.Count;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Index != prevIndex + 1 + (ulong)i) throw new InvalidDataException("append entries are not consecutive");
            if (e.Index <= SnapshotIndex) continue;
            var existing = TermAt(e.Index);
            if (existing == e.Term) continue;
            if (existing is not null)
            {
                // Rule 3: an entry conflicts; it and everything after it go. Committed entries never conflict (§5.4).
                if (e.Index <= Committed) throw new InvalidOperationException($"conflict at committed index {e.Index}");
                TruncateFrom(e.Index);
            }
            for (var j = i; j < entries.Count; j++) _entries.Add(entries[j]);
            break;
        }
        CommitTo(Math.Min(leaderCommit, lastNew));
        return lastNew;
    }

    private void TruncateFrom(ulong index)
    {
        _entries.RemoveRange((int)(index - SnapshotIndex - 1), (int)(LastIndex - index + 1));
        PersistFrom = Math.Min(PersistFrom, index);
        StableIndex = Math.Min(StableIndex, index - 1);
    }

    public void CommitTo(ulong index)
    {
        if (index <= Committed) return;
        if (index > LastIndex) throw new InvalidOperationException($"commit {index} beyond last index {LastIndex}");
        Committed = index;
    }

    /// <summary>The first index of the run of <paramref name="term"/> that contains <paramref name="index"/>
    /// (the follower's fast-backup hint). Stops at the first index held in memory.</summary>
    public ulong FirstIndexOfTermAt(ulong index, ulong term)
    {
        var i = index;
        while (i > FirstIndex && TermAt(i - 1) == term) i--;
        return i;
    }

    /// <summary>The last index whose term is <paramref name="term"/>, or null if the log holds no entry of that term.</summary>
    public ulong? LastIndexOfTerm(ulong term)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Term == term) return _entries[i].Index;
            if (_entries[i].Term < term) return null; // terms only grow along the log
        }
        return SnapshotTerm == term && SnapshotIndex > 0 ? SnapshotIndex : null;
    }

    /// <summary>Entries to hand to the driver for persistence, marking them as handed.</summary>
    public IReadOnlyList<LogEntry> TakeUnpersisted()
    {
        if (PersistFrom > LastIndex) return [];
        var from = Math.Max(PersistFrom, FirstIndex);
        var result = _entries.GetRange((int)(from - SnapshotIndex - 1), (int)(LastIndex - from + 1));
        PersistFrom = LastIndex + 1;
        return result;
    }

    public bool HasUnpersisted => PersistFrom <= LastIndex;

    /// <summary>The driver made entries up to (index, term) durable. If the log was overwritten meanwhile, the
    /// term no longer matches and nothing is marked (the new entries are in a later batch).</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (index <= SnapshotIndex || TermAt(index) == term) StableIndex = Math.Max(StableIndex, Math.Min(index, LastIndex));
    }

    public bool HasCommittedToApply => Committed > Applied;

    public IReadOnlyList<LogEntry> CommittedToApply(long maxBytes) =>
        Committed > Applied ? Slice(Applied + 1, Committed + 1, maxBytes) : [];

    public void AppliedTo(ulong index)
    {
        if (index > Committed || index < Applied) throw new InvalidOperationException($"applied {index} outside ({Applied}, {Committed}]");
        Applied = index;
    }

    /// <summary>Replaces the whole log with a snapshot received from the leader.</summary>
    public void RestoreSnapshot(SnapshotMeta meta)
    {
        _entries.Clear();
        SnapshotIndex = meta.Index;
        SnapshotTerm = meta.Term;
        Committed = meta.Index;
        StableIndex = meta.Index;
        PersistFrom = meta.Index + 1;
    }

    /// <summary>After the application installed the snapshot, it has applied everything up to its index.</summary>
    public void SnapshotApplied(ulong index) => Applied = Math.Max(Applied, index);

    /// <summary>Drops entries up to <paramref name="index"/> (covered by a snapshot the application took).</summary>
    public void CompactTo(ulong index)
    {
        if (index <= SnapshotIndex) return;
        if (index > Applied) throw new InvalidOperationException($"cannot compact to {index}: only {Applied} applied");
        var term = TermAt(index)!.Value;
        _entries.RemoveRange(0, (int)(index - SnapshotIndex));
        SnapshotIndex = index;
        SnapshotTerm = term;
        StableIndex = Math.Max(StableIndex, index);
        PersistFrom = Math.Max(PersistFrom, index + 1);
    }
}
