using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>The outcome of counting votes (or liveness) against a quorum.</summary>
public enum VoteResult : byte
{
    /// <summary>Neither a quorum of yes nor enough no votes yet: wait for more answers.</summary>
    Pending,
    /// <summary>A quorum can no longer be reached.</summary>
    Lost,
    /// <summary>A quorum said yes.</summary>
    Won,
}

/// <summary>
/// A set of voters deciding by simple majority (etcd's quorum.MajorityConfig). Immutable; ids are kept sorted and
/// distinct so two configs with the same members compare and print the same. The empty config is the neutral element
/// of a joint config: it commits everything and wins every vote, so a non-joint config is simply (C, ∅).
/// </summary>
public sealed class MajorityConfig : IEquatable<MajorityConfig>
{
    public static MajorityConfig Empty { get; } = new([]);

    private readonly NodeId[] _ids;

    public MajorityConfig(IEnumerable<NodeId> ids) => _ids = ids.Distinct().Order().ToArray();

    public IReadOnlyList<NodeId> Ids => _ids;
    public int Count => _ids.Length;
    public bool IsEmpty => _ids.Length == 0;
    public int Quorum => _ids.Length / 2 + 1;

    public bool Contains(NodeId id) => Array.BinarySearch(_ids, id) >= 0;

    /// <summary>
    /// The highest index acknowledged by a majority: sort the acknowledged indexes and take the quorum-th largest.
    /// A voter with no acknowledgement counts as 0. The empty config returns <see cref="ulong.MaxValue"/> so that
    /// min(incoming, outgoing) is just the incoming result. Allocation-free for the group sizes Raft is run at.
    /// </summary>
    public ulong CommittedIndex(Func<NodeId, ulong> acked)
    {
        var n = _ids.Length;
        if (n == 0) return ulong.MaxValue;
        if (n == 1) return acked(_ids[0]);
        Span<ulong> indexes = n <= 32 ? stackalloc ulong[n] : new ulong[n];
        for (var i = 0; i < n; i++) indexes[i] = acked(_ids[i]);
        indexes.Sort();
        return indexes[n - (n / 2 + 1)];
    }

    /// <summary>Counts <paramref name="vote"/> (true yes, false no, null not answered) over the voters only: answers
    /// from anyone else never count. The empty config wins (see <see cref="CommittedIndex"/>).</summary>
    public VoteResult Tally(Func<NodeId, bool?> vote)
    {
        if (_ids.Length == 0) return VoteResult.Won;
        int yes = 0, missing = 0;
        foreach (var id in _ids)
        {
            switch (vote(id))
            {
                case true: yes++; break;
                case null: missing++; break;
            }
        }
        if (yes >= Quorum) return VoteResult.Won;
        return yes + missing >= Quorum ? VoteResult.Pending : VoteResult.Lost;
    }

    public bool Equals(MajorityConfig? other) => other is not null && _ids.AsSpan().SequenceEqual(other._ids);
    public override bool Equals(object? obj) => Equals(obj as MajorityConfig);
    public override int GetHashCode() => _ids.Aggregate(17, (h, id) => h * 31 + id.Value);

    /// <summary>"(1 2 3)", as etcd prints it (ids without the n prefix, so test files stay short).</summary>
    public override string ToString() => $"({string.Join(' ', _ids.Select(id => id.Value))})";
}

/// <summary>
/// Two majority configs that must both agree (Raft thesis §4.3, C_old,new): committing needs both majorities, a vote
/// is won only when both are won and lost when either is lost. Outside a membership change Outgoing is empty.
/// </summary>
public sealed record JointConfig(MajorityConfig Incoming, MajorityConfig Outgoing)
{
    public bool IsJoint => !Outgoing.IsEmpty;

    public bool Contains(NodeId id) => Incoming.Contains(id) || Outgoing.Contains(id);

    public ulong CommittedIndex(Func<NodeId, ulong> acked)
    {
        var incoming = Incoming.CommittedIndex(acked);
        return Outgoing.IsEmpty ? incoming : Math.Min(incoming, Outgoing.CommittedIndex(acked));
    }

    public VoteResult Tally(Func<NodeId, bool?> vote)
    {
        var incoming = Incoming.Tally(vote);
        if (Outgoing.IsEmpty) return incoming;
        var outgoing = Outgoing.Tally(vote);
        if (incoming == outgoing) return incoming;
        return incoming == VoteResult.Lost || outgoing == VoteResult.Lost ? VoteResult.Lost : VoteResult.Pending;
    }

    /// <summary>"(1 2 3)" or, in a joint config, "(1 2 4)&amp;&amp;(1 2 3)" (incoming first, as etcd).</summary>
    public override string ToString() => Outgoing.IsEmpty ? Incoming.ToString() : $"{Incoming}&&{Outgoing}";
}
