using Flotilla.Runtime;

namespace Flotilla.Raft;

public enum ConfChangeStatus : byte
{
    /// <summary>Committed and applied on this node: <c>Membership</c> is now in force here.</summary>
    Applied,
    /// <summary>This node is not the leader; <c>LeaderHint</c> names the leader it knows of, if any. Nothing was appended.</summary>
    NotLeader,
    /// <summary>The leader is transferring leadership or has too many uncommitted entries; retry shortly. Nothing was appended.</summary>
    Busy,
    /// <summary>Refused without being appended: another change is pending, or the change is invalid against the
    /// current membership. <c>Error</c> is the one-line reason (from <see cref="MembershipChanger"/>).</summary>
    Refused,
    /// <summary>Appended but lost: leadership changed and another entry took its index. It will never take effect.</summary>
    Lost,
    /// <summary>Appended, then the outcome could not be observed: a snapshot replaced the log past its index, the
    /// caller's token was cancelled, or the node stopped. Read <see cref="RaftNode.Membership"/> to learn what happened.</summary>
    Unknown,
}

/// <summary>The answer of <see cref="RaftNode.ProposeConfChangeAsync"/>.</summary>
public readonly record struct ConfChangeOutcome(ConfChangeStatus Status, ulong Index, MembershipConfig? Membership, NodeId? LeaderHint, string? Error)
{
    public bool IsApplied => Status == ConfChangeStatus.Applied;

    /// <summary>One line for an operator: "applied at 42: voters=(1 2 3)", "not the leader (try n2)", the refusal...</summary>
    public override string ToString() => Status switch
    {
        ConfChangeStatus.Applied => $"applied at {Index}: {Membership}",
        ConfChangeStatus.NotLeader => LeaderHint is { } l ? $"not the leader (try {l})" : "not the leader (no leader known)",
        ConfChangeStatus.Busy => "the leader is busy (leadership transfer or too many uncommitted entries); retry",
        ConfChangeStatus.Refused => $"refused: {Error}",
        ConfChangeStatus.Lost => $"lost: leadership changed before index {Index} committed; the membership did not change",
        _ => $"outcome unknown: {Error}",
    };
}

/// <summary>What the leader knows of one member's replication (a copy of the core's <see cref="Progress"/>): an
/// operator layer promotes a learner once <c>Match</c> is close enough to the leader's last index.</summary>
public readonly record struct PeerProgress(NodeId Peer, ulong Match, ulong Next, ProgressState State, bool IsLearner, bool RecentActive);

/// <summary>A membership change this node just applied (also when re-applying its log after a restart), or, with
/// <c>Change</c> null, the membership a snapshot installed or the node started with. <c>Change.Context</c> is what
/// the proposer attached (for example the new member's address, for the transport's address book).</summary>
public sealed record MembershipApplied(ulong Index, ConfChange? Change, MembershipConfig Membership);
