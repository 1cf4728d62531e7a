using Flotilla.Raft;
using Flotilla.Runtime;
using static Flotilla.Raft.Tests.Core.LogStates;

namespace Flotilla.Raft.Tests.Core;

public class ElectionTests
{
    [Fact]
    public void SingleNodeElectsItselfAndCommitsItsProposal()
    {
        var net = new CoreNetwork(1);
        var leader = net.ElectLeader();
        var index = net.ProposeOn(leader, "x");
        Assert.Equal(index, net[1].CommitIndex);
        Assert.Equal(["x"], net.AppliedCommands(leader));
    }

    [Fact]
    public void ThreeNodesElectExactlyOneLeaderAndAllAgreeOnIt()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var net = new CoreNetwork(3, seed: seed);
            var leader = net.ElectLeader();
            net.Tick(5);
            Assert.Single(net.Cores.Values, c => c.Role == RaftRole.Leader);
            Assert.All(net.Cores.Values, c => Assert.Equal(leader, c.Leader));
            Assert.All(net.Cores.Values, c => Assert.Equal(net.Cores[leader].Term, c.Term));
        }
    }

    [Fact]
    public void CandidateWithStaleLogCannotWinButUpToDateOneCan()
    {
        // Node 1 lacks the term-2 entry that nodes 2 and 3 hold: §5.4.1 forbids electing it.
        var net = new CoreNetwork(3, c => c with { PreVote = false }, initial: id => id.Value == 1 ? Log(2, 1) : Log(2, 1, 2));
        net[1].Campaign(force: false);
        net.Settle();
        Assert.NotEqual(RaftRole.Leader, net[1].Role);
        net[2].Campaign(force: false);
        net.Settle();
        Assert.Equal(RaftRole.Leader, net[2].Role);
    }

    [Fact]
    public void ANodeVotesAtMostOncePerTerm()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(1), Voters = [new(1), new(2), new(3)], PreVote = false, CheckQuorum = false }, new Random(1));
        core.Step(new Message { Type = MessageType.Vote, From = new(2), To = new(1), Term = 5 });
        core.Step(new Message { Type = MessageType.Vote, From = new(3), To = new(1), Term = 5 });
        var responses = core.Ready().MessagesAfterPersist;
        Assert.False(responses.Single(m => m.To == new NodeId(2)).Reject);
        Assert.True(responses.Single(m => m.To == new NodeId(3)).Reject);
        Assert.Equal(new NodeId(2), core.VotedFor);
    }

    [Fact]
    public void VoteIsPersistedBeforeItIsSent()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(1), Voters = [new(1), new(2), new(3)], PreVote = false }, new Random(1));
        core.Step(new Message { Type = MessageType.Vote, From = new(2), To = new(1), Term = 3 });
        var ready = core.Ready();
        Assert.Equal(new HardState(3, new NodeId(2), 0), ready.HardState);
        Assert.Empty(ready.MessagesNow);
        Assert.Single(ready.MessagesAfterPersist);
    }

    [Fact]
    public void PartitionedNodeWithPreVoteDoesNotRaiseItsTermNorDisruptTheLeaderWhenItReturns()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var term = net.Cores[leader].Term;
        var outsider = net.Ids.First(i => i != leader);
        net.Isolate(outsider.Value);
        net.TickNode(outsider.Value, 200);
        Assert.Equal(term, net.Cores[outsider].Term); // pre-votes failed, so no term inflation
        net.Heal();
        net.Tick(30);
        Assert.Equal(leader, net.Leader);
        Assert.Equal(term, net.Cores[leader].Term);
    }

    [Fact]
    public void WithoutPreVoteAPartitionedNodeInflatesItsTerm()
    {
        // The control for the test above: the behaviour PreVote exists to prevent.
        var net = new CoreNetwork(3, c => c with { PreVote = false });
        var leader = net.ElectLeader();
        var term = net.Cores[leader].Term;
        var outsider = net.Ids.First(i => i != leader);
        net.Isolate(outsider.Value);
        net.TickNode(outsider.Value, 200);
        Assert.True(net.Cores[outsider].Term > term + 3);
    }

    [Fact]
    public void FollowerWithLiveLeaderIgnoresVoteRequestsOfHigherTerm()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var follower = net.Ids.First(i => i != leader);
        var term = net.Cores[follower].Term;
        var other = net.Ids.First(i => i != leader && i != follower);
        net.Cores[follower].Step(new Message
        {
            Type = MessageType.Vote, From = other, To = follower, Term = term + 5, Index = 100, LogTerm = term + 4,
        });
        Assert.Equal(term, net.Cores[follower].Term);
        Assert.Equal(leader, net.Cores[follower].Leader);
    }

    [Fact]
    public void LeaderCutOffFromQuorumStepsDownWithCheckQuorum()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.Isolate(leader.Value);
        net.TickNode(leader.Value, 25);
        Assert.NotEqual(RaftRole.Leader, net.Cores[leader].Role);
        // Meanwhile the majority elects a new leader.
        for (var i = 0; i < 100 && net.Cores.Values.Count(c => c.Role == RaftRole.Leader && c.Id != leader) == 0; i++)
            foreach (var id in net.Ids.Where(x => x != leader)) net.TickNode(id.Value);
        Assert.Contains(net.Cores.Values, c => c.Role == RaftRole.Leader && c.Id != leader);
    }

    [Fact]
    public void RestartedNodeKeepsTermVoteAndLog()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "a");
        net.ProposeOn(leader, "b");
        var follower = net.Ids.First(i => i != leader);
        var before = net.Cores[follower];
        net.Restart(follower.Value);
        var after = net.Cores[follower];
        Assert.Equal(before.Term, after.Term);
        Assert.Equal(before.VotedFor, after.VotedFor);
        Assert.Equal(before.LastIndex, after.LastIndex);
        Assert.Equal(before.LastTerm, after.LastTerm);
    }

    [Fact]
    public void ElectionTimeoutsAreRandomizedBetweenOneAndTwoElectionTimeouts()
    {
        var firstCampaignTicks = new HashSet<int>();
        for (var seed = 0; seed < 30; seed++)
        {
            var core = new RaftCore(new RaftConfig { Id = new NodeId(1), Voters = [new(1), new(2), new(3)], ElectionTicks = 10, HeartbeatTicks = 1 }, new Random(seed));
            var ticks = 0;
            while (core.Role == RaftRole.Follower) { core.Tick(); ticks++; }
            Assert.InRange(ticks, 10, 19);
            firstCampaignTicks.Add(ticks);
        }
        Assert.True(firstCampaignTicks.Count > 3, "timeouts should vary with the random source");
    }
}
