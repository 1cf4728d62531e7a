using System.Buffers.Binary;
using System.Text;

namespace Flotilla.MapReduce.Core;

/// <summary>
/// A hash table from UTF-8 keys to their pending values, for the byte-level combining map: a key already seen costs
/// one hash of its bytes and one comparison, no allocation; its string is made once, when first needed. Keys live
/// in one growing byte array; open addressing with linear probing over a power-of-two bucket array kept at most
/// half full. The hash is deterministic (not randomized): a map task's input is the job's own data, not an attacker's.
/// A key's latest run of equal values is kept as (value, repeat count) in its entry, and only a different value
/// moves the run into a list: word count's "1"s then cost an increment in the entry the lookup already touched,
/// where appending each to a per-key list cost a cache miss per word (the lists of 22,000 keys span megabytes) and
/// doubled the map's time.
/// </summary>
internal sealed class Utf8KeyTable
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;

    private int[] _buckets = new int[1024]; // entry index + 1; 0 = empty
    private Entry[] _entries = new Entry[512];
    private byte[] _keyBytes = new byte[8192];
    private int _keyBytesUsed;

    private struct Entry
    {
        public int Hash;
        public int Offset;
        public int Length;
        public string? Key;
        public int Pending;        // values not yet combined: Earlier's, then Repeats copies of Run
        public int Repeats;
        public string? Run;
        public List<string>? Earlier;
    }

    public int Count { get; private set; }

    /// <summary>The index of <paramref name="key"/>'s entry, added (with an empty value list) if it is new.</summary>
    public int IndexOf(ReadOnlySpan<byte> key)
    {
        var hash = Hash(key);
        var mask = _buckets.Length - 1;
        var slot = hash & mask;
        while (true)
        {
            var index = _buckets[slot] - 1;
            if (index < 0) break;
            ref var entry = ref _entries[index];
            if (entry.Hash == hash && _keyBytes.AsSpan(entry.Offset, entry.Length).SequenceEqual(key)) return index;
            slot = (slot + 1) & mask;
        }
        return Add(key, hash, slot);
    }

    /// <summary>Appends <paramref name="value"/> to entry <paramref name="index"/>'s pending values; returns how many are pending.</summary>
    public int AddValue(int index, string value)
    {
        ref var entry = ref _entries[index];
        if (entry.Repeats > 0 && string.Equals(entry.Run, value, StringComparison.Ordinal)) entry.Repeats++;
        else
        {
            MoveRunToEarlier(ref entry);
            entry.Run = value;
            entry.Repeats = 1;
        }
        return ++entry.Pending;
    }

    /// <summary>Entry <paramref name="index"/>'s pending values in the order they were added, written into <paramref name="into"/> (cleared first).</summary>
    public void CopyValues(int index, List<string> into)
    {
        ref var entry = ref _entries[index];
        into.Clear();
        if (entry.Earlier is not null) into.AddRange(entry.Earlier);
        for (var i = 0; i < entry.Repeats; i++) into.Add(entry.Run!);
    }

    /// <summary>Replaces entry <paramref name="index"/>'s pending values by the single <paramref name="combined"/>.</summary>
    public void ReplaceValues(int index, string combined)
    {
        ref var entry = ref _entries[index];
        entry.Earlier?.Clear();
        entry.Run = combined;
        entry.Repeats = 1;
        entry.Pending = 1;
    }

    /// <summary>The single pending value of entry <paramref name="index"/>, or null if it has several.</summary>
    public string? SingleValue(int index) => _entries[index].Pending == 1 ? _entries[index].Run : null;

    private static void MoveRunToEarlier(ref Entry entry)
    {
        if (entry.Repeats == 0) return;
        entry.Earlier ??= new List<string>(4);
        for (var i = 0; i < entry.Repeats; i++) entry.Earlier.Add(entry.Run!);
        entry.Repeats = 0;
        entry.Run = null;
    }

    /// <summary>The key of entry <paramref name="index"/> as a string, decoded once and kept.</summary>
    public string Key(int index)
    {
        ref var entry = ref _entries[index];
        return entry.Key ??= Encoding.UTF8.GetString(_keyBytes, entry.Offset, entry.Length);
    }

    private int Add(ReadOnlySpan<byte> key, int hash, int slot)
    {
        if (_keyBytesUsed + key.Length > _keyBytes.Length)
            Array.Resize(ref _keyBytes, Math.Max(_keyBytes.Length * 2, _keyBytesUsed + key.Length));
        key.CopyTo(_keyBytes.AsSpan(_keyBytesUsed));
        if (Count == _entries.Length) Array.Resize(ref _entries, Count * 2);
        var index = Count++;
        _entries[index] = new Entry { Hash = hash, Offset = _keyBytesUsed, Length = key.Length };
        _keyBytesUsed += key.Length;
        _buckets[slot] = index + 1;
        if (Count * 2 > _buckets.Length) Grow();
        return index;
    }

    private void Grow()
    {
        _buckets = new int[_buckets.Length * 2];
        var mask = _buckets.Length - 1;
        for (var index = 0; index < Count; index++)
        {
            var slot = _entries[index].Hash & mask;
            while (_buckets[slot] != 0) slot = (slot + 1) & mask;
            _buckets[slot] = index + 1;
        }
    }

    // Eight bytes at a time, multiply-xorshift mixed; the last step spreads the high bits into the low ones the mask keeps.
    private static int Hash(ReadOnlySpan<byte> key)
    {
        var hash = (ulong)key.Length * Multiplier;
        while (key.Length >= 8)
        {
            hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(key)) * Multiplier;
            hash ^= hash >> 29;
            key = key[8..];
        }
        if (key.Length > 0)
        {
            ulong tail = 0;
            for (var i = 0; i < key.Length; i++) tail |= (ulong)key[i] << (8 * i);
            hash = (hash ^ tail) * Multiplier;
        }
        hash ^= hash >> 32;
        hash *= Multiplier;
        hash ^= hash >> 29;
        return (int)hash & int.MaxValue;
    }
}
