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
    public void ReadIndexIsConfirmedByAHeartbeatQuorumAtTheCommitIndex()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var index = net.ProposeOn(leader, "x");
        net.Tick(1);
        Assert.True(net.Cores[leader].ReadIndex(77));
        net.Settle();
        Assert.Empty(net.ReadStates); // not confirmed before a heartbeat round
        net.Tick(1);
        var state = Assert.Single(net.ReadStates);
        Assert.Equal(new ReadState(77, index, true), state);
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
