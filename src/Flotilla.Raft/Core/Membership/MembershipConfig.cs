using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>
/// Who belongs to a Raft group at one point of its log (etcd's tracker.Config and raftpb.ConfState in one immutable
/// value): the voters (joint while a change is in progress), the learners (receive the log, never vote or campaign),
/// the learners-next (voters of the outgoing config that become learners when the joint config is left: a voter
/// cannot turn into a learner while it still counts for the outgoing majority), and whether the leader leaves the
/// joint config by itself once it is applied.
/// <para>It is what snapshots carry and what <see cref="MembershipChanger"/> turns into the next config.</para>
/// </summary>
public sealed class MembershipConfig : IEquatable<MembershipConfig>
{
    public MembershipConfig(JointConfig voters, IEnumerable<NodeId>? learners = null, IEnumerable<NodeId>? learnersNext = null, bool autoLeave = false)
    {
        Voters = voters;
        Learners = new MajorityConfig(learners ?? []);
        LearnersNext = new MajorityConfig(learnersNext ?? []);
        AutoLeave = autoLeave;
    }

    /// <summary>A plain (non-joint) group of voters: every static cluster, and the bootstrap config of every group.</summary>
    public static MembershipConfig FromVoters(IEnumerable<NodeId> voters) => new(new JointConfig(new MajorityConfig(voters), MajorityConfig.Empty));

    public JointConfig Voters { get; }

    /// <summary>A sorted set (a <see cref="MajorityConfig"/> is used as one; learners never form a quorum).</summary>
    public MajorityConfig Learners { get; }

    public MajorityConfig LearnersNext { get; }
    public bool AutoLeave { get; }

    public bool IsJoint => Voters.IsJoint;

    /// <summary>True for the plain single-voter group of <paramref name="id"/> (reads need no confirmation round).</summary>
    public bool IsSingleton(NodeId id) => !IsJoint && Voters.Incoming.Count == 1 && Voters.Incoming.Contains(id);

    public bool IsVoter(NodeId id) => Voters.Contains(id);
    public bool IsLearner(NodeId id) => Learners.Contains(id) || LearnersNext.Contains(id);
    public bool Contains(NodeId id) => IsVoter(id) || IsLearner(id);

    /// <summary>Every member (voters of both configs, learners, learners-next), sorted, each once.</summary>
    public IEnumerable<NodeId> Members =>
        Voters.Incoming.Ids.Concat(Voters.Outgoing.Ids).Concat(Learners.Ids).Concat(LearnersNext.Ids).Distinct().Order();

    /// <summary>True when only <see cref="FromVoters"/> is needed to describe it (the format of older snapshots).</summary>
    public bool IsPlain => !IsJoint && Learners.IsEmpty && LearnersNext.IsEmpty && !AutoLeave;

    /// <summary>The first broken invariant, or null (etcd's confchange checkInvariants). Decoders use it to refuse
    /// a config no correct node can have written.</summary>
    public string? Invalid()
    {
        foreach (var id in Learners.Ids)
        {
            if (Voters.Contains(id)) return $"{id.Value} is both a learner and a voter";
        }
        foreach (var id in LearnersNext.Ids)
        {
            if (!Voters.Outgoing.Contains(id)) return $"{id.Value} is in learners_next but not an outgoing voter";
            if (Voters.Incoming.Contains(id)) return $"{id.Value} is in learners_next and an incoming voter";
            if (Learners.Contains(id)) return $"{id.Value} is in learners_next and a learner";
        }
        if (!IsJoint && !LearnersNext.IsEmpty) return "learners_next outside a joint config";
        if (!IsJoint && AutoLeave) return "autoleave outside a joint config";
        return null;
    }

    public bool Equals(MembershipConfig? other) =>
        other is not null && Voters.Incoming.Equals(other.Voters.Incoming) && Voters.Outgoing.Equals(other.Voters.Outgoing)
        && Learners.Equals(other.Learners) && LearnersNext.Equals(other.LearnersNext) && AutoLeave == other.AutoLeave;

    public override bool Equals(object? obj) => Equals(obj as MembershipConfig);
    public override int GetHashCode() => HashCode.Combine(Voters.Incoming, Voters.Outgoing, Learners, LearnersNext, AutoLeave);

    /// <summary>etcd's notation: <c>voters=(1 2 3)&amp;&amp;(1 2) learners=(4) learners_next=(3) autoleave</c>.</summary>
    public override string ToString()
    {
        var s = $"voters={Voters}";
        if (!Learners.IsEmpty) s += $" learners={Learners}";
        if (!LearnersNext.IsEmpty) s += $" learners_next={LearnersNext}";
        if (AutoLeave) s += " autoleave";
        return s;
    }
}
