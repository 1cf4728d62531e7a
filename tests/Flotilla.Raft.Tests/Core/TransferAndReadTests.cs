using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

public class TransferAndReadTests
{
    [Fact]
    public void LeadershipTransfersToAnUpToDateFollowerAtOnce()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        var target = net.Ids.First(i => i != leader);
        Assert.True(net.Cores[leader].TransferLeadership(target));
        net.Settle();
        Assert.Equal(RaftRole.Leader, net.Cores[target].Role);
        Assert.Equal(target, net.Cores[leader].Leader);
    }

    [Fact]
    public void LeadershipTransferFirstCatchesUpALaggingTarget()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var target = net.Ids.First(i => i != leader);
        net.Isolate(target.Value);
        for (var i = 0; i < 10; i++) net.ProposeOn(leader, $"c{i}");
        net.Heal();
        net.Cores[leader].TransferLeadership(target);
        Assert.Equal(ProposeStatus.Busy, net.Cores[leader].Propose(new byte[1]).Status);
        net.Settle();
        net.Tick(3);
        Assert.Equal(RaftRole.Leader, net.Cores[target].Role);
        Assert.Equal(10, net.AppliedCommands(target).Count);
    }

    [Fact]
    public void ReadIndexIsConfirmedWithinOneRoundTripWithoutATick()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var index = net.ProposeOn(leader, "x");
        net.Settle();
        Assert.True(net.Cores[leader].ReadIndex(77));
        net.DeliverOneHop(); // the confirmation heartbeats reach the followers
        Assert.Empty(net.ReadStates);
        net.DeliverOneHop(); // their answers reach the leader: one round trip, no tick
        var state = Assert.Single(net.ReadStates);
        Assert.Equal(new ReadState(77, index, true), state);
    }

    [Fact]
    public void ReadsArrivingDuringAConfirmationRoundShareTheNextRound()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        net.Settle();
        var heartbeatsBefore = net.Delivered.Count(m => m.Type == MessageType.Heartbeat);
        Assert.True(net.Cores[leader].ReadIndex(1));
        net.DeliverOneHop();
        // Two reads while the first round is in flight: no new round yet.
        Assert.True(net.Cores[leader].ReadIndex(2));
        Assert.True(net.Cores[leader].ReadIndex(3));
        net.DeliverOneHop();
        Assert.Equal([1UL], net.ReadStates.Select(r => r.RequestId));
        net.Settle();
        Assert.Equal([1UL, 2UL, 3UL], net.ReadStates.Select(r => r.RequestId));
        Assert.All(net.ReadStates, r => Assert.True(r.Ok));
        // Round 1 and one shared round for reads 2 and 3: two heartbeats to each of the two followers.
        Assert.Equal(4, net.Delivered.Count(m => m.Type == MessageType.Heartbeat) - heartbeatsBefore);
    }

    [Fact]
    public void ALostConfirmationRoundIsCoveredByTheNextRegularHeartbeat()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.ProposeOn(leader, "x");
        net.Settle();
        net.Drop = m => m.Type == MessageType.Heartbeat;
        Assert.True(net.Cores[leader].ReadIndex(8));
        net.Settle();
        Assert.Empty(net.ReadStates);
        net.Drop = null;
        net.Tick(1); // the regular heartbeat round carries the waiting read
        Assert.Equal(new ReadState(8, net.Cores[leader].CommitIndex, true), Assert.Single(net.ReadStates));
    }

    [Fact]
    public void ReadIndexOnAPartitionedLeaderIsNeverConfirmed()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.Tick(1);
        net.Isolate(leader.Value);
        Assert.True(net.Cores[leader].ReadIndex(5));
        net.TickNode(leader.Value, 30);
        Assert.DoesNotContain(net.ReadStates, r => r.Ok);
        Assert.Contains(new ReadState(5, 0, false), net.ReadStates); // failed when the leader stepped down
    }

    [Fact]
    public void ReadIndexWaitsForTheNewLeadersFirstCommit()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.Tick(1);
        // Depose the leader by transfer; the new leader's noop commits only when appends flow.
        var next = net.Ids.First(i => i != leader);
        net.Drop = m => m.Type == MessageType.Append && m.From == next;
        net.Cores[leader].TransferLeadership(next);
        net.Settle();
        Assert.Equal(RaftRole.Leader, net.Cores[next].Role);
        Assert.True(net.Cores[next].ReadIndex(9));
        net.Tick(3);
        Assert.Empty(net.ReadStates);
        net.Drop = null;
        net.Tick(3);
        var state = Assert.Single(net.ReadStates);
        Assert.True(state.Ok);
        Assert.Equal(net.Cores[next].CommitIndex, state.Index);
    }

    [Fact]
    public void FollowerRefusesReadIndex()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        Assert.False(net.Cores[net.Ids.First(i => i != leader)].ReadIndex(1));
    }
}
