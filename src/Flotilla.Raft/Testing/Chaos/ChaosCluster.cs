using System.Text;
using Flotilla.Runtime;

namespace Flotilla.Raft.Testing.Chaos;

/// <summary>
/// A randomized, seeded world for Raft cores (in the spirit of Jepsen's nemesis and etcd's raft interaction tests):
/// every step is one event — deliver, drop or duplicate a message picked at random from everything in flight (so
/// reordering is unbounded), tick a node, propose, snapshot, crash (losing what was not synced), restart, partition
/// or heal — and after every step the <see cref="SafetyChecker"/> checks Raft's safety properties.
/// Every message crosses the wire codec. Readys are processed whole, in the order the driver must follow.
/// </summary>
public sealed class ChaosCluster
{
    /// <summary>Bounds the in-flight bag so a partitioned leader cannot grow it without limit.</summary>
    private const int InFlightMessagesMax = 2_000;
    private const int ReadysPerStepMax = 1_000;

    private readonly Random _random;
    private readonly List<Message> _inFlight = new();
    private readonly Dictionary<NodeId, int> _side = new();
    private long _proposals;

    /// <param name="bootstrapVoters">With a value, the group starts with voters 1..bootstrapVoters, the other nodes
    /// wait as joiners, and random membership changes (add learner, promote, remove, replace through a joint config,
    /// demote) join the events. Without, the membership is static and the run is exactly the classic chaos run.</param>
    public ChaosCluster(Random random, int size, int? bootstrapVoters = null)
    {
        _random = random;
        _membershipChanges = bootstrapVoters is not null;
        var ids = Enumerable.Range(1, size).Select(i => new NodeId(i)).ToList();
        var bootstrap = ids.Take(bootstrapVoters ?? size).ToList();
        RaftConfig ConfigFor(NodeId id) => new()
        {
            Id = id, Voters = bootstrap, Join = !bootstrap.Contains(id), ElectionTicks = 10, HeartbeatTicks = 2, MaxInflightMessages = 8,
            SnapshotChunkBytes = 3, // an 8-byte snapshot travels in three chunks
        };
        Nodes = ids.Select(id => new ChaosNode(id, ConfigFor, random)).ToList();
        foreach (var id in ids) _side[id] = 0;
    }

    public List<ChaosNode> Nodes { get; }
    public SafetyChecker Checker { get; } = new();
    public int Steps { get; private set; }
    public int Crashes { get; private set; }
    public int SnapshotsTaken { get; private set; }

    /// <summary>Membership changes committed and applied (by index), and how many of them entered a joint config or
    /// removed a voter: the harness guard asserts the runs really change membership.</summary>
    public int MembershipChangesApplied => _appliedChanges.Count;
    public int JointConfigsEntered => _appliedChanges.Values.Count(c => c.IsJoint);
    public int SnapshotsWithChangingMembership { get; private set; }

    private readonly bool _membershipChanges;
    private readonly Dictionary<ulong, MembershipConfig> _appliedChanges = new();

    /// <summary>Runs <paramref name="steps"/> random events, checking safety after each.</summary>
    public void Run(int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            Step();
            Checker.Check(Nodes.Where(n => n.Up).Select(n => n.Core));
        }
    }

    private void Step()
    {
        Steps++;
        var roll = _random.Next(1000);
        if (roll < 600) DeliverOne();
        else if (roll < 850) Pick().Core.Tick();
        else if (roll < 930)
        {
            if (_membershipChanges && roll < 865) ProposeMembershipChange();
            else Propose();
        }
        else if (roll < 960) TakeSnapshot();
        else if (roll < 975) CrashOrRestart();
        else if (roll < 990) Partition();
        else Heal();
        ProcessReadys();
    }

    /// <summary>Heals everything and runs reliably until a fresh proposal is applied everywhere (liveness after chaos).</summary>
    public void HealAndCommit(int maxRounds)
    {
        Heal();
        foreach (var n in Nodes.Where(n => !n.Up)) n.Restart();
        var marker = $"final-{_proposals}";
        var proposed = false;
        for (var round = 0; round < maxRounds; round++)
        {
            foreach (var n in Nodes) n.Core.Tick();
            ProcessReadys();
            // Deliver in order; bounded, because a broken core could keep two nodes talking forever.
            for (var hop = 0; hop < InFlightMessagesMax && _inFlight.Count > 0; hop++)
            {
                var m = _inFlight[0];
                _inFlight.RemoveAt(0);
                Deliver(m);
                ProcessReadys();
            }
            Checker.Check(Nodes.Select(n => n.Core));
            var leader = Nodes.Where(n => n.Core.Role == RaftRole.Leader).MaxBy(n => n.Core.Term);
            if (!proposed && leader is not null)
                proposed = leader.Core.Propose(Encoding.UTF8.GetBytes(marker)).IsAccepted;
            // An explicit joint config stays until someone leaves it: the operator would, so the harness does.
            if (leader is not null && leader.Core.Membership is { IsJoint: true, AutoLeave: false }) leader.Core.ProposeConfChange(ConfChange.LeaveJoint);
            // Every member of the leader's membership (all nodes of a static group) applied everything, identically;
            // removed nodes and joiners never added are no longer replicated to.
            var members = leader is null ? [] : Nodes.Where(n => leader.Core.Membership.Contains(n.Id)).Append(leader).ToList();
            if (proposed && leader is not null && !leader.Core.Membership.IsJoint
                && members.All(n => n.Core.AppliedIndex == leader.Core.LastIndex && n.Core.LastIndex == leader.Core.LastIndex)
                && members.All(n => n.StateHash == leader.StateHash))
                return;
        }
        throw new RaftScenarioException($"no progress within {maxRounds} healed rounds: {string.Join("; ", Nodes.Select(n => n.Core))}");
    }

    private ChaosNode Pick() => Nodes[_random.Next(Nodes.Count)];

    private void DeliverOne()
    {
        if (_inFlight.Count == 0) return;
        var at = _random.Next(_inFlight.Count);
        var m = _inFlight[at];
        var roll = _random.Next(100);
        if (roll < 10) { _inFlight.RemoveAt(at); return; }   // lost
        if (roll >= 95) { Deliver(m); return; }             // duplicated: delivered and still in flight
        _inFlight.RemoveAt(at);
        Deliver(m);
    }

    private void Deliver(Message m)
    {
        var to = Nodes[m.To.Value - 1];
        if (!to.Up || _side[m.From] != _side[m.To]) return;
        to.Core.Step(MessageCodec.Decode(MessageCodec.Encode(m).Span));
    }

    private void Propose()
    {
        var n = Pick();
        if (!n.Up) return;
        n.Core.Propose(Encoding.UTF8.GetBytes($"c{++_proposals}"));
    }

    /// <summary>How far behind the leader's last index a learner may be when it is promoted to voter (the operator
    /// rule <see cref="RaftNode.IsCaughtUp"/> implements): promoting a learner that is far behind would make the new
    /// majority wait for it, and with a crash or a partition on top, stall the group.</summary>
    public ulong MaxPromotionLag { get; init; } = 3;

    /// <summary>A random change the leader's membership allows (the leader may still refuse it: one at a time).
    /// New members join as learners; a learner is promoted (alone, or replacing a voter through a joint config) only
    /// once caught up within <see cref="MaxPromotionLag"/>; voters stay between 2 and 5; removed nodes may come back,
    /// as learners first. Explicit joint configs are left by a later event.</summary>
    private void ProposeMembershipChange()
    {
        if (Nodes.FirstOrDefault(n => n.Up && n.Core.Role == RaftRole.Leader) is not { } leader) return;
        var m = leader.Core.Membership;
        if (m.IsJoint)
        {
            if (!m.AutoLeave) leader.Core.ProposeConfChange(ConfChange.LeaveJoint);
            return;
        }
        var voters = m.Voters.Incoming.Ids;
        var caughtUp = m.Learners.Ids.Where(id => leader.Core.ProgressOf(id) is { } pr && pr.Match + MaxPromotionLag >= leader.Core.LastIndex).ToList();
        var outsiders = Nodes.Select(n => n.Id).Where(id => !m.Contains(id)).ToList();
        NodeId Any(IReadOnlyList<NodeId> ids) => ids[_random.Next(ids.Count)];
        ConfChange? change = _random.Next(6) switch
        {
            0 when outsiders.Count > 0 => ConfChange.AddLearner(Any(outsiders)),
            1 or 2 when caughtUp.Count > 0 && voters.Count < 5 => ConfChange.AddVoter(Any(caughtUp)),
            3 when voters.Count > 2 => ConfChange.Remove(Any(voters)),
            4 when caughtUp.Count > 0 => new ConfChange(_random.Next(2) == 0 ? ConfChangeTransition.JointImplicit : ConfChangeTransition.JointExplicit,
                [new(ConfChangeType.AddVoter, Any(caughtUp)), new(ConfChangeType.Remove, Any(voters))]),
            5 when voters.Count > 2 => new ConfChange(ConfChangeTransition.JointImplicit, [new(ConfChangeType.AddLearner, Any(voters))]),
            _ => null,
        };
        if (change is not null)
        {
            var r = leader.Core.ProposeConfChange(change);
            if (r.IsAccepted) MembershipChangesProposed++;
            if (r.IsAccepted && change.Changes.Any(c => c.Type == ConfChangeType.AddVoter)) PromotionsProposed++;
        }
    }

    public int MembershipChangesProposed { get; private set; }
    public int PromotionsProposed { get; private set; }

    private void TakeSnapshot()
    {
        var n = Pick();
        if (!n.Up || n.Core.AppliedIndex < n.Core.SnapshotIndex + 5) return;
        if (n.Core.Compact(n.Core.AppliedIndex, BitConverter.GetBytes(n.StateHash)) is { } snapshot)
        {
            n.Storage.SaveSnapshotAsync(snapshot, discardLog: false);
            n.Storage.SyncAsync();
            SnapshotsTaken++;
            if (!snapshot.Meta.Membership.Equals(MembershipConfig.FromVoters(Nodes.Take(3).Select(x => x.Id)))) SnapshotsWithChangingMembership++;
        }
    }

    private void CrashOrRestart()
    {
        // Half the time the victim is a leader: Figure 8 and its relatives need leaders to die mid-replication.
        var n = _random.Next(2) == 0 && Nodes.FirstOrDefault(x => x.Up && x.Core.Role == RaftRole.Leader) is { } leader ? leader : Pick();
        if (!n.Up)
        {
            n.Restart();
            return;
        }
        // Keep at most a minority down at once so the run makes progress between crashes.
        if (Nodes.Count(x => !x.Up) >= (Nodes.Count - 1) / 2) return;
        n.Crash();
        Crashes++;
    }

    private void Partition()
    {
        foreach (var n in Nodes) _side[n.Id] = _random.Next(2);
    }

    private void Heal()
    {
        foreach (var n in Nodes) _side[n.Id] = 0;
    }

    /// <summary>Carries out every pending Ready as the driver would: send now, persist and sync, send after persist,
    /// install the snapshot, apply, advance.</summary>
    private void ProcessReadys()
    {
        foreach (var n in Nodes.Where(n => n.Up))
        {
            for (var readys = 0; n.Core.HasReady; readys++)
            {
                // A core that never runs out of work is a bug too; fail instead of hanging the test run.
                if (readys > ReadysPerStepMax) throw new RaftScenarioException($"{n.Core} produced over {ReadysPerStepMax} Readys in one step");
                var ready = n.Core.Ready();
                // Memory storage completes at once: the driver's own snapshot plumbing, run synchronously.
                foreach (var m in ready.MessagesNow)
                    if (SnapshotChunks.FillAsync(n.Storage, m).GetAwaiter().GetResult() is { } filled) Send(filled);
                var installed = SnapshotChunks.PersistAsync(n.Storage, ready).GetAwaiter().GetResult();
                n.Storage.AppendAsync(ready.Entries);
                if (ready.HardState is { } hs) n.Storage.SaveHardStateAsync(hs);
                if (ready.MustPersist) n.Storage.SyncAsync();
                foreach (var m in ready.MessagesAfterPersist) Send(m);
                if (installed is not null)
                {
                    n.Install(installed);
                    Checker.ObserveApplied(n.Id, n.AppliedIndex, n.StateHash);
                }
                foreach (var e in ready.CommittedEntries)
                {
                    if (e.Kind == EntryKind.ConfChange && n.Core.ApplyConfChange(e).Config is { } applied)
                    {
                        // Every node must apply each change to the same config (state machine safety covers the entry;
                        // this covers the membership it produced).
                        if (_appliedChanges.TryGetValue(e.Index, out var seen) && !seen.Equals(applied))
                            throw new RaftScenarioException($"membership safety: {n.Id} applied {e} as {applied}, another node as {seen}");
                        _appliedChanges[e.Index] = applied;
                    }
                    n.Apply(e);
                    Checker.ObserveApplied(n.Id, n.AppliedIndex, n.StateHash);
                }
                n.Core.Advance(ready);
            }
        }
    }

    private void Send(Message m)
    {
        if (_inFlight.Count < InFlightMessagesMax) _inFlight.Add(m);
    }
}
