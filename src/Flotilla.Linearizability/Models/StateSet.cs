namespace Flotilla.Linearizability.Models;

/// <summary>An immutable, duplicate-free set of possible states, compared as a set (order does not matter).
/// Small by construction (a handful of "maybe applied" branches), so linear scans beat hashing here.</summary>
public sealed class StateSet<TState>
{
    private readonly TState[] _states;
    private readonly int _hash;

    internal StateSet(TState[] states, IEqualityComparer<TState> comparer)
    {
        _states = states;
        // Order-independent hash: the same set built in another order must hash the same.
        var hash = 0;
        foreach (var s in states) hash += Mix(s is null ? 0 : comparer.GetHashCode(s));
        _hash = hash;
    }

    public IReadOnlyList<TState> States => _states;

    public int Count => _states.Length;

    internal int Hash => _hash;

    internal bool SetEquals(StateSet<TState> other, IEqualityComparer<TState> comparer)
    {
        if (ReferenceEquals(this, other)) return true;
        if (_hash != other._hash || _states.Length != other._states.Length) return false;
        foreach (var s in _states)
            if (!Contains(other._states, s, comparer)) return false;
        return true;
    }

    internal static bool Contains(IReadOnlyList<TState> states, TState candidate, IEqualityComparer<TState> comparer)
    {
        for (var i = 0; i < states.Count; i++)
            if (comparer.Equals(states[i], candidate)) return true;
        return false;
    }

    private static int Mix(int h)
    {
        var x = (uint)h * 0x9E3779B1u;
        return (int)(x ^ (x >> 15));
    }
}
