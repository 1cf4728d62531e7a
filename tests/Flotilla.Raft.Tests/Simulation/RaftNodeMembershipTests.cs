using Flotilla.Raft.Testing;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary>Membership changes through the driver (<see cref="RaftNode.ProposeConfChangeAsync"/>) on the simulator,
/// with WAL storage on crash-prone disks: joiners that were not in the startup peer list, learner catch-up, promotion,
/// joint consensus, and recovery of the configuration after a crash in the middle of a change.</summary>
public class RaftNodeMembershipTests
{
    private static NodeId N(int i) => new(i);
    private static MembershipConfig Voters(params int[] ids) => MembershipConfig.FromVoters(ids.Select(N));

    [Fact]
    public void ALearnerJoinsCatchesUpAndIsPromotedAndTheAnswersSayWhy() => SeedRunner.ForSeeds(3, sim =>
        sim.RunTest(async () =>
        {
            var c = new RaftCluster(sim, 4, voters: 3);
            for (var i = 0; i < 20; i++) await c.OneAsync($"before{i}", 3, true);
            var leader = await c.CheckOneLeaderAsync();
            var node = c.NodeOf(leader)!;
            var follower = c.All.First(i => i != leader && i <= 3);

            // A follower answers at once, naming the leader; an invalid change is refused with the changer's reason.
            var notLeader = await sim.Node(follower).InvokeAsync(() => c.NodeOf(follower)!.ProposeConfChangeAsync(ConfChange.AddLearner(N(4))));
            Assert.Equal(ConfChangeStatus.NotLeader, notLeader.Status);
            Assert.Equal(N(leader), notLeader.LeaderHint);
            var invalid = await sim.Node(leader).InvokeAsync(() => node.ProposeConfChangeAsync(ConfChange.Remove(N(9))));
            Assert.Equal(ConfChangeStatus.Refused, invalid.Status);
            Assert.Equal("9 is not a member", invalid.Error);

            // Two at once: the second is refused because the first is pending.
            var (first, second) = await sim.Node(leader).InvokeAsync(() =>
                (node.ProposeConfChangeAsync(ConfChange.AddLearner(N(4))), node.ProposeConfChangeAsync(ConfChange.Remove(N(follower)))));
            var refused = await second;
            Assert.Equal(ConfChangeStatus.Refused, refused.Status);
            Assert.StartsWith("another membership change is pending", refused.Error);
            var added = await first;
            Assert.Equal(ConfChangeStatus.Applied, added.Status);
            Assert.Equal(new MembershipConfig(Voters(1, 2, 3).Voters, [N(4)]), added.Membership);
            Assert.Equal(added.Membership, node.Membership);

            // The learner was not in the startup peer list; it receives the log and the leader sees it catch up.
            await c.WaitCaughtUpAsync(4, maxLag: 0);
            var progress = await sim.Node(leader).InvokeAsync(() => node.Progress());
            var learner = Assert.Single(progress, p => p.Peer == N(4));
            Assert.True(learner.IsLearner);
            Assert.Equal(node.LastIndex, learner.Match);

            var promoted = await c.ChangeAsync(ConfChange.AddVoter(N(4)));
            Assert.Equal(Voters(1, 2, 3, 4), promoted.Membership);
            // Four voters: a commit now needs three, and it still commits with one of the old voters down.
            c.Crash(follower);
            await c.OneAsync("after", 3, true);
            c.CheckApplyErrors();
        }, TimeSpan.FromSeconds(60)));

    [Fact]
    public void ANodeCrashedInTheJointConfigRecoversItAndTheChangeCanBeFinished() => SeedRunner.ForSeeds(3, sim =>
        sim.RunTest(async () =>
        {
            // Snapshots every 7 entries, so some restarts recover the joint config from a snapshot, others from the log.
            var c = new RaftCluster(sim, 4, snapshotEvery: 7, voters: 3);
            for (var i = 0; i < 5; i++) await c.OneAsync($"a{i}", 3, true);
            await c.ChangeAsync(ConfChange.AddLearner(N(4)));
            await c.WaitCaughtUpAsync(4, maxLag: 0);
            // Replace 3 by 4 through a joint config that stays until it is left explicitly.
            var replace = new ConfChange(ConfChangeTransition.JointExplicit, [new(ConfChangeType.AddVoter, N(4)), new(ConfChangeType.Remove, N(3))]);
            var joint = await c.ChangeAsync(replace);
            var expected = new MembershipConfig(new JointConfig(new MajorityConfig([N(1), N(2), N(4)]), new MajorityConfig([N(1), N(2), N(3)])));
            Assert.Equal(expected, joint.Membership);
            for (var i = 0; i < 5; i++) await c.OneAsync($"b{i}", 4, true);

            // Power loss everywhere, then everyone comes back: the joint config is recovered from WAL and snapshot.
            foreach (var i in c.All) c.Crash(i);
            foreach (var i in c.All) c.Restart(i);
            await c.OneAsync("restarted", 4, true);
            foreach (var i in c.All) Assert.Equal(expected, c.NodeOf(i)!.Membership);

            var left = await c.ChangeAsync(ConfChange.LeaveJoint);
            Assert.Equal(Voters(1, 2, 4), left.Membership);
            // Node 3 is out: the rest commit without it, and a crash of 3 plus a restart cycle does not bring it back.
            c.Crash(3);
            foreach (var i in new[] { 1, 2, 4 }) c.Restart(i);
            await c.OneAsync("without3", 3, true);
            foreach (var i in new[] { 1, 2, 4 }) Assert.Equal(Voters(1, 2, 4), c.NodeOf(i)!.Membership);
            c.CheckApplyErrors();
        }, TimeSpan.FromSeconds(90)));

    [Fact]
    public void MembershipAppliedReportsEachChangeWithItsContextOnEveryMember() =>
        SeedRunner.ForSeeds(2, sim =>
        {
            var events = new List<(int Node, MembershipApplied Applied)>();
            var c = new RaftCluster(sim, 4, voters: 3);
            sim.RunTest(async () =>
            {
                await c.OneAsync("x", 3, true);
                foreach (var i in c.All) Subscribe(i);
                var add = ConfChange.AddLearner(N(4)) with { Context = "http://10.0.0.4:7001"u8.ToArray() };
                await c.ChangeAsync(add);
                await c.WaitCaughtUpAsync(4, 0);
                await c.OneAsync("y", 4, true);
                Assert.Contains(events, e => e.Node == 1 && e.Applied.Change?.Context.ToArray() is { } ctx
                    && System.Text.Encoding.UTF8.GetString(ctx) == "http://10.0.0.4:7001" && e.Applied.Membership.IsLearner(N(4)));
                // The joiner applies the change that added it, like everyone else.
                Assert.Contains(events, e => e.Node == 4 && e.Applied.Change is not null && e.Applied.Membership.IsLearner(N(4)));
            }, TimeSpan.FromSeconds(30));

            void Subscribe(int i)
            {
                if (c.NodeOf(i) is { } node) node.MembershipApplied += a => events.Add((i, a));
            }
        });
}
