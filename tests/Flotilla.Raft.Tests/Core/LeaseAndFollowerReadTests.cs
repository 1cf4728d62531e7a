using Flotilla.Raft;
using Flotilla.Raft.Testing;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

/// <summary>Lease-based reads on the leader and ReadIndex served by followers (docs/raft.md "Reads").</summary>
public class LeaseAndFollowerReadTests
{
    private static readonly RaftConfig Base = new() { Id = new NodeId(1), Voters = [new(1), new(2), new(3)] };

    private static (CoreNetwork Net, ManualClock Clock, NodeId Leader) LeaseCluster(bool mutationTicks = false)
    {
        var clock = new ManualClock();
        var net = new CoreNetwork(3, c => mutationTicks ? RaftMutations.WithTickBasedLease(c with { LeaseReads = true }) : c with { LeaseReads = true }, clock: clock);
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        net.TickNode(leader.Value); // one heartbeat round (HeartbeatTicks = 1), acknowledged by both followers
        return (net, clock, leader);
    }

    [Fact]
    public void LeaseReadsAreRefusedWithoutCheckQuorumOrWithADriftBoundAsLongAsTheElectionTimeout()
    {
        var noQuorum = Assert.Throws<ArgumentException>(() => (Base with { LeaseReads = true, CheckQuorum = false }).Validate());
        Assert.Contains("lease reads need CheckQuorum", noQuorum.Message);
        var drift = Assert.Throws<ArgumentException>(() => (Base with { LeaseReads = true, MaxClockDrift = TimeSpan.FromMilliseconds(400) }).Validate());
        Assert.Contains("MaxClockDrift", drift.Message);
        var noClock = Assert.Throws<ArgumentException>(() => new RaftCore(Base with { LeaseReads = true }, new Random(1)));
        Assert.Contains("clock", noClock.Message);
        (Base with { LeaseReads = true }).Validate(); // CheckQuorum is on by default
    }

    [Fact]
    public void InsideTheLeaseAReadIsAnsweredAtTheCommitIndexWithoutARound()
    {
        var (net, _, leader) = LeaseCluster();
        Assert.True(net.Cores[leader].HasReadLease);
        var delivered = net.Delivered.Count;
        Assert.True(net.Cores[leader].ReadIndex(9));
        net.Settle();
        Assert.Equal(new ReadState(9, net.Cores[leader].CommitIndex, true), Assert.Single(net.ReadStates));
        Assert.Equal(delivered, net.Delivered.Count); // no message at all
    }

    [Fact]
    public void TheLeaseExpiresOnTheClockWhileNoTickRuns()
    {
        var (net, clock, leader) = LeaseCluster();
        var core = net.Cores[leader];
        clock.Advance(core.Config.LeaseDuration - TimeSpan.FromMilliseconds(1));
        Assert.True(core.HasReadLease);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(core.HasReadLease); // a paused process resumes with an expired lease, whatever its tick count
        net.Isolate(leader.Value);
        Assert.True(core.ReadIndex(4));
        net.Settle();
        Assert.Empty(net.ReadStates); // it needs a confirmation round now, which the partition never lets through
    }

    [Fact]
    public void TheTickBasedMutationKeepsAnExpiredLease()
    {
        var (net, clock, leader) = LeaseCluster(mutationTicks: true);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(net.Cores[leader].HasReadLease); // the bug the paused-leader scenario must catch
    }

    [Fact]
    public void TheLeaseStartsWhenTheRoundWasSentNotWhenItWasAcknowledged()
    {
        var clock = new ManualClock();
        var net = new CoreNetwork(3, c => c with { LeaseReads = true }, clock: clock);
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        var core = net.Cores[leader];
        core.Tick(); // sends a heartbeat round now
        net.DeliverOneHop();
        clock.Advance(TimeSpan.FromMilliseconds(100)); // the answers take 100 ms to come back
        net.Settle();
        clock.Advance(core.Config.LeaseDuration - TimeSpan.FromMilliseconds(100));
        Assert.False(core.HasReadLease);
    }

    [Fact]
    public void ALeadershipTransferAndSteppingDownDropTheLease()
    {
        var (net, _, leader) = LeaseCluster();
        var target = net.Ids.First(i => i != leader);
        Assert.True(net.Cores[leader].TransferLeadership(target));
        Assert.False(net.Cores[leader].HasReadLease);

        var (net2, _, leader2) = LeaseCluster();
        net2.Isolate(leader2.Value);
        net2.TickNode(leader2.Value, 30); // CheckQuorum: it steps down
        Assert.NotEqual(RaftRole.Leader, net2.Cores[leader2].Role);
        Assert.False(net2.Cores[leader2].HasReadLease);
    }

    [Fact]
    public void ARestartedNodeWithLeaseReadsRefusesVotesForAnElectionTimeout()
    {
        var (net, _, leader) = LeaseCluster();
        var follower = net.Ids.First(i => i != leader);
        net.Restart(follower.Value);
        var core = net.Cores[follower];
        var vote = new Message { Type = MessageType.Vote, From = new NodeId(99), To = follower, Term = core.Term + 5, Index = 1000, LogTerm = 1000 };
        core.Step(vote);
        Assert.DoesNotContain(core.Ready().MessagesAfterPersist, m => m.Type == MessageType.VoteResponse && !m.Reject);
    }

    [Fact]
    public void AMembershipChangeVoidsTheLeaseUntilARoundOfTheNewConfigIsAcknowledged()
    {
        var clock = new ManualClock();
        var net = new CoreNetwork(4, c => c with { LeaseReads = true }, clock: clock, voters: 3);
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        net.TickNode(leader.Value);
        Assert.True(net.Cores[leader].HasReadLease);
        var change = net.Cores[leader].ProposeConfChange(ConfChange.AddLearner(new NodeId(4)));
        Assert.True(change.IsAccepted);
        net.Settle(); // committed and applied: the leader's membership changed
        Assert.False(net.Cores[leader].HasReadLease);
        net.TickNode(leader.Value);
        Assert.True(net.Cores[leader].HasReadLease);
    }

    [Fact]
    public void AFollowerGetsTheLeadersReadIndex()
    {
        var net = new CoreNetwork(3, c => c with { FollowerReads = true });
        var leader = net.ElectLeader();
        var index = net.ProposeOn(leader, "x");
        net.Settle();
        var follower = net.Ids.First(i => i != leader);
        Assert.True(net.Cores[follower].ReadIndex(5));
        Assert.True(net.Cores[leader].ReadIndex(5)); // the same id on two nodes: the leader keeps them apart
        net.Settle();
        Assert.Equal(2, net.ReadStates.Count(r => r == new ReadState(5, index, true)));
        Assert.Contains(net.Delivered, m => m.Type == MessageType.ReadIndexResponse && m.To == follower && m.Index == index);
    }

    [Fact]
    public void AFollowerWithoutFollowerReadsRefusesAndAnUnansweredForwardedReadExpires()
    {
        var plain = new CoreNetwork(3);
        var leader = plain.ElectLeader();
        Assert.False(plain.Cores[plain.Ids.First(i => i != leader)].ReadIndex(1));

        var net = new CoreNetwork(3, c => c with { FollowerReads = true });
        leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        var follower = net.Ids.First(i => i != leader);
        net.Drop = m => m.Type == MessageType.ReadIndex;
        Assert.True(net.Cores[follower].ReadIndex(3));
        net.Settle();
        Assert.Empty(net.ReadStates);
        net.TickNode(follower.Value, 2 * net.Cores[follower].Config.ElectionTicks);
        Assert.Contains(new ReadState(3, 0, false), net.ReadStates);
    }

    [Fact]
    public void ForwardedReadsUseTheLeadersLease()
    {
        var clock = new ManualClock();
        var net = new CoreNetwork(3, c => c with { LeaseReads = true, FollowerReads = true }, clock: clock);
        var leader = net.ElectLeader();
        var index = net.ProposeOn(leader, "x");
        net.TickNode(leader.Value);
        var follower = net.Ids.First(i => i != leader);
        var heartbeats = net.Delivered.Count(m => m.Type == MessageType.Heartbeat);
        Assert.True(net.Cores[follower].ReadIndex(11));
        net.Settle();
        Assert.Equal(new ReadState(11, index, true), Assert.Single(net.ReadStates));
        Assert.Equal(heartbeats, net.Delivered.Count(m => m.Type == MessageType.Heartbeat)); // no confirmation round
    }

    [Fact]
    public void ReadIndexMessagesAndLeaseRoundsSurviveTheCodec()
    {
        foreach (var m in new[]
                 {
                     new Message { Type = MessageType.ReadIndex, From = new(2), To = new(1), Term = 3, Context = 42 },
                     new Message { Type = MessageType.ReadIndexResponse, From = new(1), To = new(2), Term = 3, Context = 42, Index = 17, Reject = true },
                     new Message { Type = MessageType.Heartbeat, From = new(1), To = new(2), Term = 3, Round = 300, Context = 5 },
                 })
        {
            var d = MessageCodec.Decode(MessageCodec.Encode(m).Span);
            Assert.Equal((m.Type, m.From, m.To, m.Term, m.Context, m.Index, m.Reject, m.Round), (d.Type, d.From, d.To, d.Term, d.Context, d.Index, d.Reject, d.Round));
        }
        var plain = new Message { Type = MessageType.Heartbeat, From = new(1), To = new(2), Term = 3 };
        var withRound = plain with { Round = 1 };
        Assert.Equal(MessageCodec.Encode(plain).Length + 1, MessageCodec.Encode(withRound).Length);
    }
}
