using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

/// <summary>Leadership transfer in the core (RaftCore.Transfer.cs): refusals, proposals during a transfer, the abort
/// after one election timeout, the forced campaign through a voter's lease. (The happy paths, to an up-to-date and to a
/// lagging follower, are in <see cref="TransferAndReadTests"/>.)</summary>
public class TransferTests
{
    private static readonly NodeId N4 = new(4);

    [Fact]
    public void ProposalsAreRefusedWithTheReasonWhileATransferRuns()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var target = net.Ids.First(i => i != leader);
        // Cut the target off so the transfer cannot finish at once.
        net.Isolate(target.Value);
        net.ProposeOn(leader, "x");
        Assert.True(net.Cores[leader].TransferLeadership(target));
        var refused = net.Cores[leader].Propose(new byte[1]);
        Assert.Equal(ProposeStatus.Busy, refused.Status);
        Assert.Equal($"leadership transfer to {target} in progress", refused.Error);
        Assert.Equal(target, net.Cores[leader].LeadTransferee);
    }

    [Fact]
    public void TransferThatCannotFinishIsAbandonedAfterOneElectionTimeout()
    {
        var net = new CoreNetwork(3, c => c with { CheckQuorum = false });
        var leader = net.ElectLeader();
        var target = net.Ids.First(i => i != leader);
        // The target never hears the TimeoutNow: it cannot campaign, and the leader must not stay stuck refusing writes.
        net.Drop = m => m.Type == MessageType.TimeoutNow;
        Assert.True(net.Cores[leader].TransferLeadership(target));
        net.TickNode(leader.Value, net.Cores[leader].Config.ElectionTicks - 1);
        Assert.Equal(target, net.Cores[leader].LeadTransferee);
        Assert.Equal(ProposeStatus.Busy, net.Cores[leader].Propose(new byte[1]).Status);
        net.TickNode(leader.Value);
        Assert.Null(net.Cores[leader].LeadTransferee);
        Assert.Equal(RaftRole.Leader, net.Cores[leader].Role);
        Assert.True(net.Cores[leader].Propose(new byte[1]).IsAccepted);
    }

    [Fact]
    public void SelfUnknownAndFollowerRequestsAreRefusedWithAReason()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var follower = net.Ids.First(i => i != leader);
        Assert.Equal($"{leader} already leads", net.Cores[leader].TransferRefusal(leader));
        Assert.False(net.Cores[leader].TransferLeadership(leader));
        Assert.Equal("n9 is not a member of the group", net.Cores[leader].TransferRefusal(new NodeId(9)));
        Assert.False(net.Cores[leader].TransferLeadership(new NodeId(9)));
        Assert.Equal($"{follower} is not the leader ({leader} is)", net.Cores[follower].TransferRefusal(net.Ids.First(i => i != leader && i != follower)));
        Assert.Null(net.Cores[leader].LeadTransferee);
        Assert.True(net.Cores[leader].Propose(new byte[1]).IsAccepted);
    }

    [Fact]
    public void ALearnerCannotBeTheTarget()
    {
        var net = new CoreNetwork(4, voters: 3);
        var leader = net.ElectLeader();
        var added = net.Cores[leader].ProposeConfChange(ConfChange.AddLearner(N4));
        Assert.True(added.IsAccepted, added.Error);
        net.Settle();
        net.Tick(2);
        Assert.Equal("n4 is a learner: only a voter can lead", net.Cores[leader].TransferRefusal(N4));
        Assert.False(net.Cores[leader].TransferLeadership(N4));
        Assert.Null(net.Cores[leader].LeadTransferee);
    }

    [Fact]
    public void TheTargetWinsThroughTheOtherVotersLeaderLease()
    {
        // CheckQuorum on: every voter heard from the leader just now, so an ordinary campaign would be ignored.
        var net = new CoreNetwork(5, c => c with { CheckQuorum = true, PreVote = true });
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        net.Tick(1);
        var term = net.Cores[leader].Term;
        var target = net.Ids.First(i => i != leader);
        Assert.True(net.Cores[leader].TransferLeadership(target));
        net.Settle();
        Assert.Equal(RaftRole.Leader, net.Cores[target].Role);
        Assert.Equal(term + 1, net.Cores[target].Term);
        Assert.All(net.Ids, id => Assert.Equal(target, net.Cores[id].Leader));
        // The vote requests carried Force (what lets a voter inside its lease grant), and no pre-vote was held.
        Assert.Contains(net.Delivered, m => m.Type == MessageType.Vote && m.From == target && m.Force);
        Assert.DoesNotContain(net.Delivered, m => m.Type == MessageType.PreVote && m.From == target && m.Term > term);
    }

    [Fact]
    public void TimeoutNowAndAForcedVoteSurviveTheCodec()
    {
        var timeoutNow = new Message { Type = MessageType.TimeoutNow, From = new NodeId(1), To = new NodeId(2), Term = 7 };
        var back = MessageCodec.Decode(MessageCodec.Encode(timeoutNow).Span);
        Assert.Equal((timeoutNow.Type, timeoutNow.From, timeoutNow.To, timeoutNow.Term), (back.Type, back.From, back.To, back.Term));
        var vote = new Message { Type = MessageType.Vote, From = new NodeId(2), To = new NodeId(3), Term = 8, Index = 5, LogTerm = 7, Force = true };
        var voteBack = MessageCodec.Decode(MessageCodec.Encode(vote).Span);
        Assert.Equal((vote.Type, vote.Term, vote.Index, vote.LogTerm, true), (voteBack.Type, voteBack.Term, voteBack.Index, voteBack.LogTerm, voteBack.Force));
    }
}
