using Flotilla.Runtime;

namespace Flotilla.Raft;

public enum ConfChangeType : byte
{
    /// <summary>Make the node a voter (a learner is promoted; a new node is added).</summary>
    AddVoter = 1,
    /// <summary>Make the node a learner (a new node joins; a voter is demoted, after the joint config when it must).</summary>
    AddLearner = 2,
    /// <summary>Take the node out of the group.</summary>
    Remove = 3,
}

/// <summary>How a change reaches its target config (etcd's ConfChangeTransition).</summary>
public enum ConfChangeTransition : byte
{
    /// <summary>One change that moves at most one voter is applied directly; anything else goes through a joint
    /// config that the leader leaves by itself.</summary>
    Auto = 0,
    /// <summary>Always through a joint config, left automatically.</summary>
    JointImplicit = 1,
    /// <summary>Through a joint config that stays until an explicit <see cref="ConfChange.LeaveJoint"/> is proposed.</summary>
    JointExplicit = 2,
}

public readonly record struct ConfChangeSingle(ConfChangeType Type, NodeId Node)
{
    public override string ToString() => $"{Type switch { ConfChangeType.AddVoter => "v", ConfChangeType.AddLearner => "l", _ => "r" }}{Node.Value}";
}

/// <summary>
/// A membership change, stored in the log as an entry of kind <see cref="EntryKind.ConfChange"/> (etcd's
/// ConfChangeV2): a list of single changes and a transition. The empty change with transition Auto leaves a joint
/// config. <c>Context</c> is opaque to Raft (the service may carry, say, the new member's address).
/// </summary>
public sealed record ConfChange(ConfChangeTransition Transition, IReadOnlyList<ConfChangeSingle> Changes)
{
    public ReadOnlyMemory<byte> Context { get; init; }

    public static ConfChange AddVoter(NodeId node) => new(ConfChangeTransition.Auto, [new(ConfChangeType.AddVoter, node)]);
    public static ConfChange AddLearner(NodeId node) => new(ConfChangeTransition.Auto, [new(ConfChangeType.AddLearner, node)]);
    public static ConfChange Remove(NodeId node) => new(ConfChangeTransition.Auto, [new(ConfChangeType.Remove, node)]);

    /// <summary>The change the leader proposes (by itself when AutoLeave) to go from C_old,new to C_new.</summary>
    public static ConfChange LeaveJoint { get; } = new(ConfChangeTransition.Auto, []);

    public bool IsLeaveJoint => Transition == ConfChangeTransition.Auto && Changes.Count == 0;

    /// <summary>Whether this change enters a joint config, and if so whether it is left automatically
    /// (etcd's EnterJoint: anything but a single change with the Auto transition uses joint consensus).</summary>
    public bool EntersJoint(out bool autoLeave)
    {
        autoLeave = Transition != ConfChangeTransition.JointExplicit;
        return Transition != ConfChangeTransition.Auto || Changes.Count > 1;
    }

    public override string ToString() =>
        IsLeaveJoint ? "leave-joint" : $"{Transition}[{string.Join(' ', Changes)}]";
}
