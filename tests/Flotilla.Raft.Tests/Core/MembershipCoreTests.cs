using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

/// <summary>
/// Membership changes through the core (issue 11): learners, promotion, joint consensus in both phases, auto-leave,
/// leader removal, one change at a time, changes racing elections, and membership in snapshots and across restarts.
/// Nodes past the bootstrap voters start as joiners (<see cref="RaftConfig.Join"/>), as a new member would.
/// </summary>
public class MembershipCoreTests
{
    private static readonly NodeId N1 = new(1), N2 = new(2), N3 = new(3), N4 = new(4), N5 = new(5);

    /// <summary>Five cores, bootstrap voters 1..3, node 1 leading.</summary>
    private static CoreNetwork ThreeVotersTwoJoiners()
    {
        var net = new CoreNetwork(5, voters: 3);
        net[1].Campaign(force: false);
        net.Settle();
        Assert.Equal(RaftRole.Leader, net[1].Role);
        return net;
    }

    private static ulong Change(CoreNetwork net, int leader, ConfChange change)
    {
        var result = net[leader].ProposeConfChange(change);
        Assert.True(result.IsAccepted, $"{change} refused: {result.Status} {result.Error}");
        net.Settle();
        return result.Index;
    }

    /// <summary>Proposes on the leader; true if it committed on the leader once the network settled.</summary>
    private static bool Commits(CoreNetwork net, int leader, string command)
    {
        var result = net[leader].Propose(System.Text.Encoding.UTF8.GetBytes(command));
        Assert.True(result.IsAccepted);
        net.Settle();
        return net[leader].CommitIndex >= result.Index;
    }

    [Fact]
    public void ALearnerReceivesTheLogButNeverVotesCampaignsOrCountsForCommit()
    {
        var net = ThreeVotersTwoJoiners();
        net.ProposeOn(N1, "before");
        Change(net, 1, ConfChange.AddLearner(N4));
        net.ProposeOn(N1, "after");

        Assert.Equal("voters=(1 2 3) learners=(4)", net[4].Membership.ToString());
        Assert.Equal(["before", "after"], net.AppliedCommands(N4));
        Assert.True(net[1].ProgressOf(N4)!.IsLearner);

        // Its acknowledgements do not make a quorum: leader + learner of 3 voters is not a majority.
        net.Isolate(2);
        net.Isolate(3);
        Assert.False(Commits(net, 1, "needs a voter"));
        net.Heal();
        net.Settle();

        // It never campaigns, even with the whole group silent for many election timeouts.
        net.Isolate(4);
        net.TickNode(4, 100);
        Assert.Equal(RaftRole.Follower, net[4].Role);
        Assert.DoesNotContain(net.Delivered, m => m.From == N4 && m.Type is MessageType.PreVote or MessageType.Vote);
    }

    [Fact]
    public void APromotedLearnerCountsForTheQuorum()
    {
        var net = ThreeVotersTwoJoiners();
        Change(net, 1, ConfChange.AddLearner(N4));
        Change(net, 1, ConfChange.AddVoter(N4));
        Assert.Equal("voters=(1 2 3 4)", net[1].Membership.ToString());
        Assert.Equal("voters=(1 2 3 4)", net[4].Membership.ToString());

        net.Isolate(3);
        Assert.True(Commits(net, 1, "1 2 4 of 4"));
        net.Isolate(4);
        Assert.False(Commits(net, 1, "1 2 of 4 is not a majority"));
    }

    [Fact]
    public void AJointConfigNeedsBothMajoritiesUntilItIsLeft()
    {
        var net = ThreeVotersTwoJoiners();
        Change(net, 1, ConfChange.AddLearner(N4));
        Change(net, 1, ConfChange.AddLearner(N5));
        // Replace 2 and 3 by 4 and 5 at once, staying joint until told.
        Change(net, 1, new ConfChange(ConfChangeTransition.JointExplicit,
            [new(ConfChangeType.AddVoter, N4), new(ConfChangeType.AddVoter, N5), new(ConfChangeType.Remove, N2), new(ConfChangeType.Remove, N3)]));
        foreach (var id in net.Ids) Assert.Equal("voters=(1 4 5)&&(1 2 3)", net.Cores[id].Membership.ToString());

        // The whole incoming config acknowledges, but the outgoing majority is missing: no commit.
        net.Isolate(2);
        net.Isolate(3);
        Assert.False(Commits(net, 1, "incoming only"));
        net.Heal();
        net.Tick(3);
        Assert.True(net[1].CommitIndex == net[1].LastIndex, "commits once the outgoing voters are back");
        // And the other way round.
        net.Isolate(4);
        net.Isolate(5);
        Assert.False(Commits(net, 1, "outgoing only"));
        net.Heal();
        net.Settle();

        Change(net, 1, ConfChange.LeaveJoint);
        foreach (var id in new[] { N1, N4, N5 }) Assert.Equal("voters=(1 4 5)", net.Cores[id].Membership.ToString());
        net.Isolate(2);
        net.Isolate(3);
        Assert.True(Commits(net, 1, "the new config alone decides"));
    }

    [Fact]
    public void TheLeaderLeavesAnAutoLeaveJointConfigByItself()
    {
        var net = ThreeVotersTwoJoiners();
        Change(net, 1, ConfChange.AddLearner(N4));
        var joint = Change(net, 1, new ConfChange(ConfChangeTransition.Auto, [new(ConfChangeType.AddVoter, N4), new(ConfChangeType.Remove, N3)]));

        Assert.Equal("voters=(1 2 4)", net[1].Membership.ToString());
        Assert.Equal("voters=(1 2 4)", net[4].Membership.ToString());
        var leave = net[1].Log.EntryAt(joint + 1);
        Assert.Equal(EntryKind.ConfChange, leave.Kind);
        Assert.True(ConfChangeCodec.Decode(leave.Data.Span).IsLeaveJoint);
        Assert.Contains(net.ConfChangeResults, r => r.Node == N2 && r.Index == joint && r.Result.Config!.IsJoint);
    }

    [Fact]
    public void ARemovedLeaderStepsDownAfterCommittingItsRemovalAndNeverCampaigns()
    {
        var net = ThreeVotersTwoJoiners();
        var removal = Change(net, 1, ConfChange.Remove(N1));

        Assert.NotEqual(RaftRole.Leader, net[1].Role);
        Assert.False(net[1].Membership.IsVoter(N1));
        Assert.True(net[2].CommitIndex >= removal && net[3].CommitIndex >= removal, "the removal committed before the leader left");
        var leader = net.ElectLeader();
        Assert.True(leader == N2 || leader == N3);
        Assert.True(Commits(net, leader.Value, "the remaining pair works"));

        net.Isolate(1);
        var term = net[1].Term;
        net.TickNode(1, 100);
        Assert.Equal(term, net[1].Term);
        Assert.Equal(RaftRole.Follower, net[1].Role);
    }

    [Fact]
    public void ALeaderReplacedThroughAJointConfigLeadsUntilTheJointConfigIsLeft()
    {
        var net = ThreeVotersTwoJoiners();
        Change(net, 1, ConfChange.AddLearner(N4));
        // Auto-leave: the joint entry, then the leave entry; 1 counts for the outgoing majority in between.
        Change(net, 1, new ConfChange(ConfChangeTransition.JointImplicit, [new(ConfChangeType.AddVoter, N4), new(ConfChangeType.Remove, N1)]));

        Assert.Equal("voters=(2 3 4)", net[2].Membership.ToString());
        Assert.NotEqual(RaftRole.Leader, net[1].Role);
        var leader = net.ElectLeader();
        Assert.NotEqual(N1, leader);
        Assert.True(Commits(net, leader.Value, "after the replacement"));
    }

    [Fact]
    public void OneChangeAtATimeAndInvalidChangesAreRefusedWithAReason()
    {
        var net = ThreeVotersTwoJoiners();
        var first = net[1].ProposeConfChange(ConfChange.AddLearner(N4));
        Assert.True(first.IsAccepted);
        var second = net[1].ProposeConfChange(ConfChange.AddLearner(N5));
        Assert.Equal(ProposeStatus.Refused, second.Status);
        Assert.Equal($"another membership change is pending (index {first.Index} is not applied yet)", second.Error);
        net.Settle();

        Assert.Equal("4 is already a learner", net[1].ProposeConfChange(ConfChange.AddLearner(N4)).Error);
        Assert.Equal("2 is already a voter", net[1].ProposeConfChange(ConfChange.AddVoter(N2)).Error);
        Assert.Equal("9 is not a member", net[1].ProposeConfChange(ConfChange.Remove(new NodeId(9))).Error);
        Assert.Equal("not in a joint config: there is nothing to leave", net[1].ProposeConfChange(ConfChange.LeaveJoint).Error);
        Assert.Equal(ProposeStatus.NotLeader, net[2].ProposeConfChange(ConfChange.AddLearner(N5)).Status);

        var single = new CoreNetwork(1);
        single[1].Campaign(force: false);
        single.Settle();
        Assert.Equal("the change removes every voter; a group needs at least one", single[1].ProposeConfChange(ConfChange.Remove(N1)).Error);

        // Refusals appended nothing: the membership is what the one accepted change made it.
        Assert.Equal("voters=(1 2 3) learners=(4)", net[1].Membership.ToString());
    }

    [Fact]
    public void AChangeLostToAnElectionNeverTakesEffectAndTheNewLeaderCanChangeAgain()
    {
        var net = ThreeVotersTwoJoiners();
        // The leader appends a change, then is cut off before anyone receives it.
        net.Isolate(1);
        Assert.True(net[1].ProposeConfChange(ConfChange.AddLearner(N4)).IsAccepted);
        net.Settle();
        for (var i = 0; i < 100 && net[2].Role != RaftRole.Leader && net[3].Role != RaftRole.Leader; i++) net.Tick();
        var leader = net[2].Role == RaftRole.Leader ? 2 : 3;
        Assert.Equal(RaftRole.Leader, net[leader].Role);
        Change(net, leader, ConfChange.AddLearner(N5));

        net.Heal();
        net.Tick(5);
        // Node 4 was never added, so nobody talks to it; every member converged on the new leader's change.
        foreach (var id in new[] { N1, N2, N3, N5 }) Assert.Equal("voters=(1 2 3) learners=(5)", net.Cores[id].Membership.ToString());
        Assert.Equal(net[2].LastIndex, net[1].LastIndex);
        Assert.DoesNotContain(net.ConfChangeResults, r => r.Result.Config?.Learners.Contains(N4) == true);
    }

    [Fact]
    public void ANodeDoesNotCampaignWhileACommittedChangeIsUnapplied()
    {
        // A restarted node: its log holds a committed membership change it has not re-applied yet.
        var change = new LogEntry(2, 1, EntryKind.ConfChange, ConfChangeCodec.Encode(ConfChange.Remove(N3)));
        var state = new RaftPersistentState(new HardState(1, null, 2), null, [new LogEntry(1, 1, EntryKind.Noop, default), change]);
        var core = new RaftCore(new RaftConfig { Id = N1, Voters = [N1, N2, N3], ElectionTicks = 10, HeartbeatTicks = 1 }, new Random(1), state);

        core.Campaign(force: false);
        Assert.Equal(RaftRole.Follower, core.Role);

        var ready = core.Ready();
        Assert.Equal(2, ready.CommittedEntries.Count);
        Assert.True(core.ApplyConfChange(ready.CommittedEntries[1]).Ok);
        core.Advance(ready);
        Assert.Equal("voters=(1 2)", core.Membership.ToString());
        core.Campaign(force: false);
        Assert.Equal(RaftRole.PreCandidate, core.Role);
    }

    [Fact]
    public void ASnapshotCarriesTheMembershipOfItsIndexToNewMembersAndAcrossRestarts()
    {
        var net = ThreeVotersTwoJoiners();
        var learner = Change(net, 1, ConfChange.AddLearner(N4));
        net.ProposeOn(N1, "x");

        // A snapshot below the change carries the membership before it; one at or after it, the change.
        var before = net[1].Compact(learner - 1, new byte[] { 1 })!;
        Assert.Equal("voters=(1 2 3)", before.Meta.Membership.ToString());
        var after = net[1].Compact(net[1].AppliedIndex, new byte[] { 2 })!;
        Assert.Equal("voters=(1 2 3) learners=(4)", after.Meta.Membership.ToString());
        net.Storages[N1].SaveSnapshotAsync(after, discardLog: false);
        net.Storages[N1].SyncAsync();

        // Node 5 joins after the compaction: it learns the whole membership from the snapshot, not the log.
        Change(net, 1, ConfChange.AddLearner(N5));
        Assert.Equal(after.Index, net.InstalledSnapshots[N5].Index);
        Assert.Equal("voters=(1 2 3) learners=(4 5)", net[5].Membership.ToString());

        // Restarted, node 1 holds the membership of its snapshot at once, and the later change once re-applied.
        net.Restart(1);
        Assert.Equal("voters=(1 2 3) learners=(4)", net[1].Membership.ToString());
        net.Settle();
        Assert.Equal("voters=(1 2 3) learners=(4 5)", net[1].Membership.ToString());
    }

    [Fact]
    public void ANodeRestartedInAJointConfigRecoversItFromSnapshotAndLog()
    {
        var net = ThreeVotersTwoJoiners();
        Change(net, 1, ConfChange.AddLearner(N4));
        Change(net, 1, new ConfChange(ConfChangeTransition.JointExplicit, [new(ConfChangeType.AddVoter, N4), new(ConfChangeType.Remove, N3)]));

        // From the log alone (no snapshot): bootstrap voters, then every change re-applied in order.
        net.Restart(2);
        net.Settle();
        Assert.Equal("voters=(1 2 4)&&(1 2 3)", net[2].Membership.ToString());

        // From a snapshot taken in the joint config.
        var snapshot = net[2].Compact(net[2].AppliedIndex, new byte[] { 3 })!;
        net.Storages[N2].SaveSnapshotAsync(snapshot, discardLog: false);
        net.Storages[N2].SyncAsync();
        var payload = StateCodec.EncodeSnapshotPayload(snapshot);
        Assert.Equal(2, payload[0]); // joint membership: payload version 2
        Assert.Equal(snapshot.Meta.Membership, StateCodec.DecodeSnapshotPayload(snapshot.Index, snapshot.Term, payload).Meta.Membership);
        net.Restart(2);
        Assert.Equal("voters=(1 2 4)&&(1 2 3)", net[2].Membership.ToString());

        Change(net, 1, ConfChange.LeaveJoint);
        Assert.Equal("voters=(1 2 4)", net[2].Membership.ToString());
    }
}
