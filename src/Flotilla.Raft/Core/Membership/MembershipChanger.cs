using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>The next config, or why the change is refused (one line, for the operator).</summary>
public readonly record struct ChangeResult(MembershipConfig? Config, string? Error)
{
    public bool Ok => Config is not null;
    public static ChangeResult Refused(string error) => new(null, error);
}

/// <summary>
/// Validates a <see cref="ConfChange"/> against the current config and computes the next one (etcd's
/// confchange.Changer, on our immutable config). Three moves: a simple change (at most one voter moves, so the old
/// and new majorities overlap), entering a joint config (C_old,new: the incoming config gets the changes, the
/// outgoing one keeps the old voters), and leaving it (C_new). Unlike etcd, doing nothing is an error too (adding a
/// voter that already votes, removing a node that is not a member): the operator asked for something else.
/// </summary>
public static class MembershipChanger
{
    /// <summary>Applies <paramref name="change"/> as its transition says (simple, enter joint, or leave joint).</summary>
    public static ChangeResult Apply(MembershipConfig current, ConfChange change)
    {
        if (change.IsLeaveJoint) return LeaveJoint(current);
        if (change.EntersJoint(out var autoLeave)) return EnterJoint(current, autoLeave, change.Changes);
        return Simple(current, change.Changes);
    }

    public static ChangeResult EnterJoint(MembershipConfig current, bool autoLeave, IReadOnlyList<ConfChangeSingle> changes)
    {
        if (current.IsJoint) return ChangeResult.Refused("a membership change is already in progress (the config is joint); leave it first");
        if (current.Voters.Incoming.IsEmpty) return ChangeResult.Refused("cannot enter a joint config from a config without voters");
        if (changes.Count == 0) return ChangeResult.Refused("a joint change needs at least one change");
        var outgoing = current.Voters.Incoming;
        var draft = new Draft(current, outgoing);
        if (draft.ApplyAll(changes) is { } error) return ChangeResult.Refused(error);
        return draft.Build(autoLeave);
    }

    public static ChangeResult LeaveJoint(MembershipConfig current)
    {
        if (!current.IsJoint) return ChangeResult.Refused("not in a joint config: there is nothing to leave");
        // Voters demoted while joint become learners now that the outgoing majority no longer counts.
        var learners = current.Learners.Ids.Concat(current.LearnersNext.Ids);
        return Checked(new MembershipConfig(new JointConfig(current.Voters.Incoming, MajorityConfig.Empty), learners));
    }

    public static ChangeResult Simple(MembershipConfig current, IReadOnlyList<ConfChangeSingle> changes)
    {
        if (current.IsJoint) return ChangeResult.Refused("a membership change is already in progress (the config is joint); leave it first");
        var draft = new Draft(current, MajorityConfig.Empty);
        if (draft.ApplyAll(changes) is { } error) return ChangeResult.Refused(error);
        var result = draft.Build(autoLeave: false);
        if (result.Config is { } next)
        {
            var before = current.Voters.Incoming.Ids;
            var after = next.Voters.Incoming.Ids;
            var moved = before.Except(after).Count() + after.Except(before).Count();
            if (moved > 1) return ChangeResult.Refused("more than one voter changed without entering a joint config");
        }
        return result;
    }

    private static ChangeResult Checked(MembershipConfig config) =>
        config.Invalid() is { } broken ? ChangeResult.Refused($"the change would break the config: {broken}") : new ChangeResult(config, null);

    /// <summary>The mutable sets a change list is applied to, one single change at a time (later changes see earlier ones).</summary>
    private sealed class Draft(MembershipConfig current, MajorityConfig outgoing)
    {
        private readonly SortedSet<NodeId> _incoming = [.. current.Voters.Incoming.Ids];
        private readonly SortedSet<NodeId> _learners = [.. current.Learners.Ids];
        private readonly SortedSet<NodeId> _learnersNext = [.. current.LearnersNext.Ids];

        public string? ApplyAll(IReadOnlyList<ConfChangeSingle> changes)
        {
            foreach (var c in changes)
            {
                var error = c.Type switch
                {
                    ConfChangeType.AddVoter => MakeVoter(c.Node),
                    ConfChangeType.AddLearner => MakeLearner(c.Node),
                    ConfChangeType.Remove => Remove(c.Node),
                    _ => $"unknown change type {(byte)c.Type}",
                };
                if (error is not null) return error;
            }
            return _incoming.Count == 0 ? "the change removes every voter; a group needs at least one" : null;
        }

        private string? MakeVoter(NodeId id)
        {
            if (_incoming.Contains(id)) return $"{id.Value} is already a voter";
            _learners.Remove(id);
            _learnersNext.Remove(id);
            _incoming.Add(id);
            return null;
        }

        private string? MakeLearner(NodeId id)
        {
            if (_learners.Contains(id) || _learnersNext.Contains(id)) return $"{id.Value} is already a learner";
            _incoming.Remove(id);
            // Still a voter of the outgoing config: it becomes a learner only when the joint config is left.
            if (outgoing.Contains(id)) _learnersNext.Add(id);
            else _learners.Add(id);
            return null;
        }

        private string? Remove(NodeId id)
        {
            if (!_incoming.Contains(id) && !_learners.Contains(id) && !_learnersNext.Contains(id)) return $"{id.Value} is not a member";
            _incoming.Remove(id);
            _learners.Remove(id);
            _learnersNext.Remove(id);
            return null;
        }

        public ChangeResult Build(bool autoLeave) =>
            Checked(new MembershipConfig(new JointConfig(new MajorityConfig(_incoming), outgoing), _learners, _learnersNext,
                autoLeave && !outgoing.IsEmpty));
    }
}
