namespace Flotilla.Wal;

/// <summary>
/// The meaning of the record stream: which entries are live, the latest state, the snapshot mark. The writer
/// applies each operation here as it stages it and recovery applies each record it reads, so a replay
/// reaches exactly the state the writer had (overwrites and snapshot marks are interpreted in one place).
/// <para>Entries are kept contiguous: <c>_base + 1 .. _base + count</c>. While the writer runs,
/// <c>_base == SnapshotIndex</c>. During recovery after compaction the first segment may start above the
/// snapshot mark it carries (entries below it are in deleted segments), so <c>_base</c> can run ahead until a
/// later mark catches up; <see cref="FinishRecovery"/> refuses a log whose live range has a hole.</para>
/// </summary>
internal sealed class LogModel(bool keepData)
{
    private readonly List<ulong> _terms = [];
    private readonly List<ReadOnlyMemory<byte>>? _data = keepData ? [] : null;
    private ulong _base;

    public ulong SnapshotIndex { get; private set; }
    public ulong SnapshotTerm { get; private set; }
    public byte[] State { get; private set; } = [];
    public bool HasState { get; private set; }

    public int Count => _terms.Count;
    public ulong FirstIndex => _terms.Count == 0 ? 0 : _base + 1;
    public ulong LastIndex => _terms.Count == 0 ? 0 : _base + (ulong)_terms.Count;

    /// <summary>The index the next appended entry must not exceed (the one after the last entry or the snapshot).</summary>
    public ulong NextIndex => _base + (ulong)_terms.Count + 1;

    public ulong TermAt(ulong index) => _terms[(int)(index - _base - 1)];

    /// <summary>Null if an append of <paramref name="index"/> is allowed now, else why not.</summary>
    public string? CheckAppend(ulong index)
    {
        if (index == 0) return "entry index 0 is reserved";
        if (index <= SnapshotIndex) return $"entry {index} is at or below the snapshot mark {SnapshotIndex}";
        if (index > NextIndex) return $"entry {index} would leave a gap after {NextIndex - 1}";
        return null;
    }

    /// <summary>Applies an entry; an index at or below the last one first discards that suffix (Raft's conflict rule).
    /// Returns null, or why the record cannot follow what came before.</summary>
    public string? ApplyEntry(ulong index, ulong term, ReadOnlySpan<byte> data)
    {
        if (index > NextIndex) return $"entry {index} does not follow {NextIndex - 1}";
        if (index <= _base)
        {
            // Overwrites an entry that lives in an earlier (compacted) segment: everything known is newer.
            _terms.Clear();
            _data?.Clear();
            _base = index - 1;
        }
        else if (index < NextIndex)
        {
            var keep = (int)(index - _base - 1);
            _terms.RemoveRange(keep, _terms.Count - keep);
            _data?.RemoveRange(keep, _data.Count - keep);
        }
        _terms.Add(term);
        _data?.Add(data.ToArray());
        return null;
    }

    public void ApplyState(ReadOnlySpan<byte> state)
    {
        State = state.ToArray();
        HasState = true;
    }

    /// <summary>
    /// Raft's rule for a snapshot (Figure 13, step 6-7): if the log holds the snapshot's last entry with the same
    /// term, the entries after it stay; otherwise the whole log is superseded by the snapshot.
    /// </summary>
    public bool KeepsEntriesAfter(ulong index, ulong term)
    {
        if (index == _base) return term == SnapshotTerm && index == SnapshotIndex;
        return index > _base && index <= LastIndex && TermAt(index) == term;
    }

    public void ApplySnapshot(ulong index, ulong term, bool keepEntries)
    {
        if (keepEntries)
        {
            if (index > _base)
            {
                var drop = (int)Math.Min(index - _base, (ulong)_terms.Count);
                _terms.RemoveRange(0, drop);
                _data?.RemoveRange(0, drop);
                _base = index;
            }
        }
        else
        {
            _terms.Clear();
            _data?.Clear();
            _base = index;
        }
        SnapshotIndex = index;
        SnapshotTerm = term;
    }

    /// <summary>A segment whose first index lies beyond what the records so far reach: the segments between were
    /// compacted (or lost). What we hold is older than the hole; <see cref="FinishRecovery"/> decides if that is fine.</summary>
    public void SkipTo(ulong firstIndex)
    {
        if (firstIndex <= NextIndex) return;
        _terms.Clear();
        _data?.Clear();
        _base = firstIndex - 1;
    }

    /// <summary>Null if the recovered entries are exactly those after the snapshot mark; else what is missing.</summary>
    public string? FinishRecovery()
    {
        if (_base > SnapshotIndex)
            return $"entries {SnapshotIndex + 1}..{_base} are missing (a segment was deleted or lost) but the snapshot mark is only {SnapshotIndex}";
        return null;
    }

    public List<WalEntry> Entries()
    {
        if (_data is null) throw new InvalidOperationException("this model does not keep entry data");
        var entries = new List<WalEntry>(_terms.Count);
        for (var i = 0; i < _terms.Count; i++) entries.Add(new WalEntry(_base + 1 + (ulong)i, _terms[i], _data[i]));
        return entries;
    }

    /// <summary>After recovery the writer keeps terms only: Raft holds the entries themselves in memory.</summary>
    public LogModel WithoutData()
    {
        var model = new LogModel(keepData: false) { SnapshotIndex = SnapshotIndex, SnapshotTerm = SnapshotTerm, State = State, HasState = HasState };
        model._base = _base;
        model._terms.AddRange(_terms);
        return model;
    }
}
