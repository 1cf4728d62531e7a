using System.Numerics;

namespace Flotilla.Linearizability.Checking;

/// <summary>
/// The set of operations already linearized, as a bitset with an incrementally maintained Zobrist hash (XOR of one
/// random word per member), so adding or removing an operation and re-hashing are O(1).
/// </summary>
internal sealed class LinearizedSet
{
    private readonly ulong[] _words;
    private readonly ulong[] _zobrist;

    public LinearizedSet(int count)
    {
        _words = new ulong[(count + 63) / 64];
        _zobrist = new ulong[count];
        var seed = 0x5EED_F107_111AUL;
        for (var i = 0; i < count; i++) _zobrist[i] = SplitMix64(ref seed);
    }

    public ulong Hash { get; private set; }

    public ulong HashWith(int op) => Hash ^ _zobrist[op];

    public void Add(int op)
    {
        _words[op >> 6] |= 1UL << (op & 63);
        Hash ^= _zobrist[op];
    }

    public void Remove(int op)
    {
        _words[op >> 6] &= ~(1UL << (op & 63));
        Hash ^= _zobrist[op];
    }

    /// <summary>A copy of the words of this set plus <paramref name="op"/> (what the cache stores).</summary>
    public ulong[] SnapshotWith(int op)
    {
        var copy = (ulong[])_words.Clone();
        copy[op >> 6] |= 1UL << (op & 63);
        return copy;
    }

    /// <summary>Whether <paramref name="words"/> equals this set plus <paramref name="op"/>, without allocating.</summary>
    public bool EqualsWith(ulong[] words, int op)
    {
        var opWord = op >> 6;
        for (var i = 0; i < words.Length; i++)
        {
            var expected = i == opWord ? _words[i] | (1UL << (op & 63)) : _words[i];
            if (words[i] != expected) return false;
        }
        return true;
    }

    public int Count
    {
        get
        {
            var n = 0;
            foreach (var w in _words) n += BitOperations.PopCount(w);
            return n;
        }
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
