namespace Flotilla.Raft;

/// <summary>
/// The pipelining window of one follower: the last index of each Append message sent but not yet acknowledged,
/// in send order (a ring buffer, as etcd's tracker/inflights.go). When full, the leader stops sending to that
/// follower until acknowledgements free slots, which bounds memory and network queues.
/// </summary>
public sealed class Inflights(int capacity)
{
    private readonly ulong[] _ring = new ulong[capacity];
    private int _start;

    public int Count { get; private set; }
    public bool Full => Count == _ring.Length;

    public void Add(ulong lastIndex)
    {
        if (Full) throw new InvalidOperationException("inflight window is full");
        _ring[(_start + Count) % _ring.Length] = lastIndex;
        Count++;
    }

    /// <summary>Frees every message whose last index is at most <paramref name="index"/> (an ack covers all before it).</summary>
    public void FreeUpTo(ulong index)
    {
        while (Count > 0 && _ring[_start] <= index)
        {
            _start = (_start + 1) % _ring.Length;
            Count--;
        }
    }

    public void FreeFirst()
    {
        if (Count > 0) FreeUpTo(_ring[_start]);
    }

    public void Reset()
    {
        _start = 0;
        Count = 0;
    }
}
