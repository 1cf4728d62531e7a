namespace Flotilla.Wal.Tests.Support;

/// <summary>
/// The WAL's contract written the simplest possible way (a list), used as the oracle: what recovery returns must
/// equal what this holds after the same operations.
/// </summary>
public sealed class ReferenceLog
{
    public List<(ulong Index, ulong Term, byte[] Data)> Entries { get; } = [];
    public byte[] State { get; private set; } = [];
    public ulong SnapshotIndex { get; private set; }
    public ulong SnapshotTerm { get; private set; }

    public ulong NextIndex => Entries.Count > 0 ? Entries[^1].Index + 1 : SnapshotIndex + 1;

    public void Append(ulong index, ulong term, byte[] data)
    {
        Entries.RemoveAll(e => e.Index >= index);
        Entries.Add((index, term, data));
    }

    public void SaveState(byte[] state) => State = state;

    public void MarkSnapshot(ulong index, ulong term)
    {
        var keep = Entries.Any(e => e.Index == index && e.Term == term) || (index == SnapshotIndex && term == SnapshotTerm);
        if (keep) Entries.RemoveAll(e => e.Index <= index);
        else Entries.Clear();
        SnapshotIndex = index;
        SnapshotTerm = term;
    }

    public ReferenceLog Clone()
    {
        var copy = new ReferenceLog { State = State, SnapshotIndex = SnapshotIndex, SnapshotTerm = SnapshotTerm };
        copy.Entries.AddRange(Entries);
        return copy;
    }

    public static ReferenceLog From(WalRecovery recovery)
    {
        var log = new ReferenceLog { State = recovery.State.ToArray(), SnapshotIndex = recovery.SnapshotIndex, SnapshotTerm = recovery.SnapshotTerm };
        log.Entries.AddRange(recovery.Entries.Select(e => (e.Index, e.Term, e.Data.ToArray())));
        return log;
    }

    /// <summary>A readable fingerprint for equality assertions (data by content).</summary>
    public string Describe() =>
        $"snapshot={SnapshotIndex}/{SnapshotTerm} state={Convert.ToHexString(State)} entries=[" +
        string.Join(",", Entries.Select(e => $"{e.Index}/{e.Term}/{Convert.ToHexString(e.Data)}")) + "]";
}
