using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

/// <summary>The parts of leadership transfer (etcd's MsgTimeoutNow) that TransferAndReadTests does not cover: the
/// transfer is abandoned after an election timeout, proposals are refused only meanwhile, and only a voter of the
/// current membership can be the target.</summary>
public class TransferAbortTests
{
    [Fact]
    public void ATransferToAnUnreachableTargetIsAbandonedAfterAnElectionTimeoutAndProposalsFlowAgain()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var target = net.Ids.First(i => i != leader);
        net.Isolate(target.Value);
        Assert.True(net.Cores[leader].TransferLeadership(target));
        Assert.Equal(ProposeStatus.Busy, net.Cores[leader].Propose(new byte[1]).Status);
        Assert.Equal(ProposeStatus.Busy, net.Cores[leader].ProposeConfChange(ConfChange.Remove(target)).Status);
        // Less than an election timeout (10 ticks): still transferring.
        net.Tick(5);
        Assert.Equal(target, net.Cores[leader].LeadTransferee);
        Assert.Equal(ProposeStatus.Busy, net.Cores[leader].Propose(new byte[1]).Status);
        // After one: abandoned, the old leader still leads the same term and accepts proposals again.
        var term = net.Cores[leader].Term;
        net.Tick(6);
        Assert.Null(net.Cores[leader].LeadTransferee);
        Assert.Equal(RaftRole.Leader, net.Cores[leader].Role);
        Assert.Equal(term, net.Cores[leader].Term);
        Assert.True(net.Cores[leader].Propose(new byte[1]).IsAccepted);
    }

    [Fact]
    public void TheTargetCampaignsAtOnceThroughTheOtherFollowersLease()
    {
        // With CheckQuorum, followers that heard from the leader ignore campaigns; TimeoutNow's forced campaign is
        // the exception, and it needs no tick of the target's election timer.
        var net = new CoreNetwork(3, c => c with { CheckQuorum = true });
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        var target = net.Ids.First(i => i != leader);
        var term = net.Cores[leader].Term;
        Assert.True(net.Cores[leader].TransferLeadership(target));
        net.Settle();
        Assert.Equal(RaftRole.Leader, net.Cores[target].Role);
        Assert.Equal(term + 1, net.Cores[target].Term);
        Assert.All(net.Ids, id => Assert.Equal(target, net.Cores[id].Leader));
    }

    [Fact]
    public void OnlyAVoterOfTheCurrentMembershipCanBeTheTarget()
    {
        var net = new CoreNetwork(4, voters: 3);
        var leader = net.ElectLeader();
        Assert.True(net.Cores[leader].ProposeConfChange(ConfChange.AddLearner(new NodeId(4))).IsAccepted);
        net.Settle();
        net.Tick(2);
        Assert.True(net.Cores[leader].Membership.IsLearner(new NodeId(4)));
        Assert.False(net.Cores[leader].TransferLeadership(new NodeId(4)));   // a learner never campaigns
        Assert.False(net.Cores[leader].TransferLeadership(new NodeId(9)));   // not a member
        Assert.False(net.Cores[leader].TransferLeadership(leader));          // already leads
        Assert.Null(net.Cores[leader].LeadTransferee);
        Assert.True(net.Cores[leader].Propose(new byte[1]).IsAccepted);
    }
}
