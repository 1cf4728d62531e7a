using Flotilla.Raft;
using Flotilla.Runtime;
using static Flotilla.Raft.Tests.Core.LogStates;

namespace Flotilla.Raft.Tests.Core;

public class ReplicationTests
{
    [Fact]
    public void ProposalsAreReplicatedCommittedAndAppliedInOrderOnEveryNode()
    {
        var net = new CoreNetwork(5);
        var leader = net.ElectLeader();
        for (var i = 0; i < 20; i++) net.ProposeOn(leader, $"cmd{i}");
        net.Tick(2); // heartbeats carry the final commit index to followers
        var expected = Enumerable.Range(0, 20).Select(i => $"cmd{i}").ToList();
        Assert.All(net.Ids, id => Assert.Equal(expected, net.AppliedCommands(id)));
    }

    [Fact]
    public void FollowerRejectsAppendThatDoesNotMatchItsLog()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(2), Voters = [new(1), new(2), new(3)] }, new Random(1), Log(2, 1, 1, 2));
        core.Step(new Message { Type = MessageType.Append, From = new(1), To = new(2), Term = 3, Index = 3, LogTerm = 3 });
        var reply = core.Ready().MessagesAfterPersist.Single();
        Assert.True(reply.Reject);
        Assert.Equal(2UL, reply.LogTerm);   // the term it holds at index 3
        Assert.Equal(3UL, reply.RejectHint); // where that term starts in its log
    }

    [Fact]
    public void AppendsProcessedInOneBatchAreAcknowledgedOnceWithTheHighestIndex()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(2), Voters = [new(1), new(2), new(3)] }, new Random(1), Log(1, 1, 1));
        NodeId leader = new(1), self = new(2);
        LogEntry Entry(ulong index) => new(index, 1, EntryKind.Normal, new byte[] { (byte)index });
        // A commit update and two appends of new entries arrive before the follower's next batch.
        core.Step(new Message { Type = MessageType.Append, From = leader, To = self, Term = 1, Index = 2, LogTerm = 1, Commit = 2 });
        core.Step(new Message { Type = MessageType.Append, From = leader, To = self, Term = 1, Index = 2, LogTerm = 1, Commit = 2, Entries = [Entry(3)] });
        core.Step(new Message { Type = MessageType.Append, From = leader, To = self, Term = 1, Index = 3, LogTerm = 1, Commit = 2, Entries = [Entry(4)] });

        var acks = core.Ready().MessagesAfterPersist.Where(m => m.Type == MessageType.AppendResponse).ToList();

        var ack = Assert.Single(acks);
        Assert.False(ack.Reject);
        Assert.Equal(4UL, ack.Index);
    }

    [Fact]
    public void RejectionsAreNeverCoalescedAway()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(2), Voters = [new(1), new(2), new(3)] }, new Random(1), Log(1, 1, 1));
        NodeId leader = new(1), self = new(2);
        core.Step(new Message { Type = MessageType.Append, From = leader, To = self, Term = 1, Index = 9, LogTerm = 1 });
        core.Step(new Message { Type = MessageType.Append, From = leader, To = self, Term = 1, Index = 2, LogTerm = 1 });

        var acks = core.Ready().MessagesAfterPersist.Where(m => m.Type == MessageType.AppendResponse).ToList();

        Assert.Equal([true, false], acks.Select(a => a.Reject));
    }

    [Fact]
    public void ConflictingSuffixIsReplacedByTheLeadersEntries()
    {
        // Node 1 (leader to be, term 3) and a follower holding uncommitted term-2 entries that the leader lacks.
        var net = new CoreNetwork(3, c => c with { PreVote = false },
            initial: id => id.Value switch { 1 => Log(3, 1, 3), 2 => Log(2, 1, 2, 2, 2), _ => Log(3, 1, 3) });
        net[1].Campaign(force: false);
        net.Settle();
        Assert.Equal(RaftRole.Leader, net[1].Role);
        net.ProposeOn(new NodeId(1), "after");
        net.Tick(2);
        Assert.All(net.Cores.Values, c => Assert.Equal(net[1].LastIndex, c.LastIndex));
        Assert.Equal(3UL, net[2].Log.TermAt(2));
        Assert.Equal(net[1].LastTerm, net[2].LastTerm);
        Assert.Equal(net.AppliedCommands(new NodeId(1)), net.AppliedCommands(new NodeId(2)));
    }

    [Fact]
    public void FastBackupRepairsALongConflictingLogInAFewRoundTrips()
    {
        // The follower holds 500 entries of term 2 that were never committed; the leader has 300 entries of term 3.
        var stale = Enumerable.Repeat(2UL, 500).Prepend(1UL).ToArray();
        var fresh = Enumerable.Repeat(3UL, 300).Prepend(1UL).ToArray();
        var net = new CoreNetwork(3, c => c with { PreVote = false },
            initial: id => id.Value == 3 ? Log(3, stale) : Log(3, fresh));
        net[1].Campaign(force: false);
        net.Settle();
        Assert.Equal(RaftRole.Leader, net[1].Role);
        net.Tick(3);
        var rejections = net.Delivered.Count(m => m.Type == MessageType.AppendResponse && m.Reject && m.From == new NodeId(3));
        Assert.InRange(rejections, 1, 3);
        Assert.Equal(net[1].LastIndex, net[3].LastIndex);
        Assert.Equal(net[1].LastTerm, net[3].LastTerm);
    }

    [Fact]
    public void FarBehindFollowerWithShortLogCatchesUpWithoutOneRoundTripPerEntry()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        var lagger = net.Ids.First(i => i != leader);
        net.Isolate(lagger.Value);
        for (var i = 0; i < 200; i++) net.ProposeOn(leader, $"c{i}");
        net.Heal();
        net.Delivered.Clear();
        net.Tick(3);
        Assert.Equal(net.Cores[leader].LastIndex, net.Cores[lagger].LastIndex);
        Assert.InRange(net.Delivered.Count(m => m.Type == MessageType.AppendResponse && m.Reject), 0, 2);
    }

    [Fact]
    public void LeaderDoesNotCommitAnEntryOfAnEarlierTermByCountingReplicas()
    {
        // Figure 8 (c): the term-4 leader holds an entry of term 2 at index 2; a follower acknowledges index 2, so it is
        // on a majority, but it must not count as committed until the leader's term-4 entry commits with it.
        var core = new RaftCore(new RaftConfig { Id = new NodeId(1), Voters = [new(1), new(2), new(3)], PreVote = false }, new Random(1), Log(3, 1, 2));
        core.Campaign(force: false);
        core.Advance(core.Ready());
        core.Step(new Message { Type = MessageType.VoteResponse, From = new(2), To = new(1), Term = 4 });
        Assert.Equal(RaftRole.Leader, core.Role);
        core.Advance(core.Ready()); // the leader's noop (index 3, term 4) is now durable locally
        core.Step(new Message { Type = MessageType.AppendResponse, From = new(2), To = new(1), Term = 4, Index = 2 });
        Assert.Equal(0UL, core.CommitIndex);
        core.Step(new Message { Type = MessageType.AppendResponse, From = new(2), To = new(1), Term = 4, Index = 3 });
        Assert.Equal(3UL, core.CommitIndex);
    }

    [Fact]
    public void ProposalsBetweenTwoReadiesTravelInOneAppendPerFollower()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.Tick(2);
        net.Delivered.Clear();
        for (var i = 0; i < 100; i++) Assert.True(net.Cores[leader].Propose(new byte[] { (byte)i }).IsAccepted);
        net.Settle();
        var appends = net.Delivered.Where(m => m.Type == MessageType.Append && m.Entries.Count > 0).ToList();
        Assert.Equal(2, appends.Count);
        Assert.All(appends, m => Assert.Equal(100, m.Entries.Count));
    }

    [Fact]
    public void AppendBatchesRespectTheByteLimit()
    {
        var net = new CoreNetwork(3, c => c with { MaxAppendBytes = 1000 });
        var leader = net.ElectLeader();
        net.Tick(2);
        net.Delivered.Clear();
        for (var i = 0; i < 50; i++) net.Cores[leader].Propose(new byte[100]);
        net.Settle();
        var appends = net.Delivered.Where(m => m.Type == MessageType.Append && m.Entries.Count > 0).ToList();
        Assert.All(appends, m => Assert.True(m.Entries.Sum(e => e.SizeBytes) <= 1000));
        Assert.All(net.Ids, id => Assert.Equal(net.Cores[leader].LastIndex, net.Cores[id].LastIndex));
    }

    [Fact]
    public void InflightWindowBoundsUnacknowledgedAppendsToASilentFollower()
    {
        var net = new CoreNetwork(3, c => c with { MaxInflightMessages = 4 });
        var leader = net.ElectLeader();
        net.Tick(2);
        var silent = net.Ids.First(i => i != leader);
        net.Cut(silent.Value, leader.Value); // the follower hears, its acks are lost
        net.Delivered.Clear();
        for (var i = 0; i < 20; i++)
        {
            net.Cores[leader].Propose(new byte[] { (byte)i });
            net.Settle();
        }
        var sent = net.Delivered.Count(m => m.Type == MessageType.Append && m.To == silent && m.Entries.Count > 0);
        Assert.Equal(4, sent);
        Assert.True(net.Cores[leader].ProgressOf(silent)!.IsPaused);
        // Once acks flow again the follower catches up.
        net.Heal();
        net.Tick(5);
        Assert.Equal(net.Cores[leader].LastIndex, net.Cores[silent].LastIndex);
    }

    [Fact]
    public void LeaderSendsAppendsBeforePersistingButFollowerAcksOnlyAfter()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.Tick(2);
        net.Cores[leader].Propose(new byte[] { 1 });
        var ready = net.Cores[leader].Ready();
        Assert.Single(ready.Entries);
        Assert.Equal(2, ready.MessagesNow.Count(m => m.Type == MessageType.Append));
        // The leader does not count its own unpersisted entry: with both followers silent nothing commits.
        var commitBefore = net.Cores[leader].CommitIndex;
        Assert.Equal(commitBefore, net.Cores[leader].CommitIndex);
        var follower = net.Ids.First(i => i != leader);
        net.Cores[follower].Step(ready.MessagesNow.First(m => m.To == follower));
        var followerReady = net.Cores[follower].Ready();
        Assert.Single(followerReady.Entries);
        Assert.Contains(followerReady.MessagesAfterPersist, m => m.Type == MessageType.AppendResponse && !m.Reject);
        Assert.DoesNotContain(followerReady.MessagesNow, m => m.Type == MessageType.AppendResponse);
    }

    [Fact]
    public void SingleNodeLeaderCommitsOnlyAfterItsOwnWriteIsDurable()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(1), Voters = [new(1)], ElectionTicks = 10, HeartbeatTicks = 1 }, new Random(1));
        core.Campaign(force: false);
        core.Advance(core.Ready());
        core.Advance(core.Ready()); // applies the noop
        var p = core.Propose(new byte[] { 7 });
        var ready = core.Ready();
        Assert.Empty(ready.CommittedEntries);
        Assert.True(core.CommitIndex < p.Index);
        core.Advance(ready);
        Assert.Equal(p.Index, core.CommitIndex);
    }

    [Fact]
    public void FollowerThatLostItsAcknowledgedEntriesIsRepairedWithoutAMessageStorm()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        for (var i = 0; i < 20; i++) net.ProposeOn(leader, $"c{i}");
        net.Tick(2);
        var follower = net.Ids.First(i => i != leader);
        net.Wipe(follower.Value);
        net.Delivered.Clear();
        net.Tick(10);
        Assert.Equal(net.Cores[leader].LastIndex, net.Cores[follower].LastIndex);
        Assert.Equal(20, net.AppliedCommands(follower).Count);
        Assert.InRange(net.Delivered.Count(m => m.Type == MessageType.AppendResponse && m.Reject), 0, 10);
        Assert.InRange(net.Delivered.Count(m => m.Type == MessageType.Append && m.To == follower), 1, 15);
    }

    [Fact]
    public void ProposalOnFollowerIsRefusedWithTheLeaderHint()
    {
        var net = new CoreNetwork(3);
        var leader = net.ElectLeader();
        net.Tick(1);
        var follower = net.Ids.First(i => i != leader);
        var result = net.Cores[follower].Propose(new byte[] { 1 });
        Assert.Equal(ProposeStatus.NotLeader, result.Status);
        Assert.Equal(leader, result.LeaderHint);
    }
}
