using System.Text;
using Flotilla.Kv.Protos;

namespace Flotilla.Kv.StateMachine;

/// <summary>
/// The versioned key/value state machine: pure (no I/O, no clock, no randomness), so the single-node server and the
/// replicated KV (behind Raft) run exactly the same logic. Applying the same puts in the same order always gives the
/// same state and the same replies.
/// <para>It holds keys only: no per-client table. Retries are made safe by the version check itself (a put at
/// version v can succeed at most once, because success moves the key to v+1), so memory is bounded by the data,
/// not by the number of clients.</para>
/// </summary>
public sealed class KvStateMachine
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Number of keys stored.</summary>
    public int KeyCount => _entries.Count;

    /// <summary>Bytes of keys and values stored (UTF-16 chars × 2): the server's whole state, to assert memory bounds.</summary>
    public long DataBytes { get; private set; }

    /// <summary>Puts that changed the state since this machine was built or restored.</summary>
    public long AppliedPuts { get; private set; }

    public GetReply Get(string key) =>
        _entries.TryGetValue(key, out var entry)
            ? new GetReply { Error = KvError.Ok, Value = entry.Value, Version = entry.Version }
            : new GetReply { Error = KvError.ErrNoKey };

    /// <summary>
    /// The only mutation. Exists + version matches: store and increment (OK). Exists + version differs: ErrVersion.
    /// Absent: create at version 1 when <c>version == 0</c>, else ErrNoKey. The request must be valid
    /// (<see cref="KvLimits.Validate(PutRequest)"/>).
    /// </summary>
    public PutReply Apply(PutRequest put)
    {
        if (_entries.TryGetValue(put.Key, out var current))
        {
            if (current.Version != put.Version) return new PutReply { Error = KvError.ErrVersion };
            Store(put.Key, new Entry(put.Value, current.Version + 1), current);
            return new PutReply { Error = KvError.Ok };
        }
        if (put.Version != 0) return new PutReply { Error = KvError.ErrNoKey };
        Store(put.Key, new Entry(put.Value, 1), null);
        return new PutReply { Error = KvError.Ok };
    }

    private void Store(string key, Entry entry, Entry? previous)
    {
        _entries[key] = entry;
        var added = 2L * entry.Value.Length + (previous is null ? 2L * key.Length : 0);
        var removed = previous is null ? 0 : 2L * previous.Value.Length;
        DataBytes += added - removed;
        AppliedPuts++;
    }

    /// <summary>Every key, value and version, in a compact binary form (see <see cref="KvSnapshotCodec"/>).</summary>
    public byte[] Snapshot() => KvSnapshotCodec.Encode(_entries.Select(e => (e.Key, e.Value.Value, e.Value.Version)), _entries.Count);

    /// <summary>What <see cref="Snapshot"/> returns, written to a stream as it is encoded (never held whole).</summary>
    public ValueTask WriteSnapshotAsync(Stream output, CancellationToken ct) =>
        KvSnapshotStream.WriteAsync(output, _entries.Select(e => (e.Key, e.Value.Value, e.Value.Version)), _entries.Count, ct);

    /// <summary>Rebuilds a state machine from <paramref name="length"/> bytes of <see cref="Snapshot"/> read from a
    /// stream. Throws <see cref="InvalidDataException"/> if they are damaged.</summary>
    public static async ValueTask<KvStateMachine> RestoreAsync(Stream input, long length, CancellationToken ct)
    {
        var machine = new KvStateMachine();
        await KvSnapshotStream.ReadAsync(input, length, machine.AddRestored, ct);
        return machine;
    }

    private void AddRestored(string key, string value, ulong version)
    {
        if (version == 0 || !_entries.TryAdd(key, new Entry(value, version)))
            throw new InvalidDataException($"snapshot has a duplicate key or a zero version at key '{key}'");
        DataBytes += 2L * (key.Length + value.Length);
    }

    /// <summary>Rebuilds a state machine from <see cref="Snapshot"/> bytes. Throws <see cref="InvalidDataException"/> if they are damaged.</summary>
    public static KvStateMachine Restore(ReadOnlySpan<byte> snapshot)
    {
        var machine = new KvStateMachine();
        foreach (var (key, value, version) in KvSnapshotCodec.Decode(snapshot)) machine.AddRestored(key, value, version);
        return machine;
    }

    /// <summary>Becomes a copy of <paramref name="other"/> (keys, values, versions, counters), in place, so whoever
    /// holds this machine sees the other's state: how a store rolls back to what its disk holds.</summary>
    public void ReplaceWith(KvStateMachine other)
    {
        _entries.Clear();
        foreach (var (key, entry) in other._entries) _entries[key] = entry;
        DataBytes = other.DataBytes;
        AppliedPuts = other.AppliedPuts;
    }

    /// <summary>The stored keys, for tests and tools (ordinal order).</summary>
    public IReadOnlyList<string> Keys() => _entries.Keys.Order(StringComparer.Ordinal).ToList();

    private sealed record Entry(string Value, ulong Version);
}
