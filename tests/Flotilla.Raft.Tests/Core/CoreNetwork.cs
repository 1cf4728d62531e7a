using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

/// <summary>
/// A deterministic network of <see cref="RaftCore"/>s stepped in memory (like etcd's <c>network</c> test helper).
/// Every message goes through the binary codec, so the codec is exercised by every core test. Each node persists
/// its Ready batches to a <see cref="MemoryRaftStorage"/> and records what it applied.
/// </summary>
internal sealed class CoreNetwork
{
    private readonly Func<NodeId, RaftConfig> _configFor;
    private readonly Queue<Message> _wire = new();
    private readonly HashSet<(NodeId, NodeId)> _cut = new();
    private readonly TimeProvider? _clock;

    /// <param name="voters">The bootstrap voters are nodes 1..voters (default: all); the others start as joiners
    /// outside the group, waiting to be added by a membership change.</param>
    public CoreNetwork(int size, Func<RaftConfig, RaftConfig>? configure = null, int seed = 1,
        Func<NodeId, RaftPersistentState>? initial = null, int? voters = null, TimeProvider? clock = null)
    {
        _clock = clock;
        Ids = Enumerable.Range(1, size).Select(i => new NodeId(i)).ToList();
        var bootstrap = Ids.Take(voters ?? size).ToList();
        _configFor = id =>
        {
            var config = new RaftConfig { Id = id, Voters = bootstrap, Join = !bootstrap.Contains(id), ElectionTicks = 10, HeartbeatTicks = 1 };
            return configure is null ? config : configure(config);
        };
        foreach (var id in Ids)
        {
            var storage = new MemoryRaftStorage();
            if (initial is not null)
            {
                var state = initial(id);
                if (state.Snapshot is not null) storage.SaveSnapshotAsync(state.Snapshot, discardLog: true);
                storage.AppendAsync(state.Entries);
                storage.SaveHardStateAsync(state.HardState);
                storage.SyncAsync();
            }
            Storages[id] = storage;
            Applied[id] = new List<LogEntry>();
            Cores[id] = new RaftCore(_configFor(id), new Random(seed * 1000 + id.Value), storage.LoadAsync().Result, _clock);
        }
    }

    public List<NodeId> Ids { get; }
    public Dictionary<NodeId, RaftCore> Cores { get; } = new();
    public Dictionary<NodeId, MemoryRaftStorage> Storages { get; } = new();
    public Dictionary<NodeId, List<LogEntry>> Applied { get; } = new();
    public Dictionary<NodeId, RaftSnapshot> InstalledSnapshots { get; } = new();
    public List<ReadState> ReadStates { get; } = new();
    public List<Message> Delivered { get; } = new();

    /// <summary>Every membership change a node applied, with what it did (in apply order).</summary>
    public List<(NodeId Node, ulong Index, ChangeResult Result)> ConfChangeResults { get; } = new();

    /// <summary>Drops a message when it returns true (after the cut links are checked).</summary>
    public Func<Message, bool>? Drop { get; set; }

    public RaftCore this[int id] => Cores[new NodeId(id)];

    public NodeId? Leader => Cores.Values.Where(c => c.Role == RaftRole.Leader).MaxBy(c => c.Term)?.Id;

    public void Isolate(int id)
    {
        foreach (var other in Ids.Where(o => o.Value != id))
        {
            _cut.Add((new NodeId(id), other));
            _cut.Add((other, new NodeId(id)));
        }
    }

    public void Cut(int from, int to) => _cut.Add((new NodeId(from), new NodeId(to)));

    public void Heal() => _cut.Clear();

    /// <summary>Restarts a node from what its storage made durable.</summary>
    public void Restart(int id)
    {
        var nodeId = new NodeId(id);
        Storages[nodeId].CrashAndRecover();
        Cores[nodeId] = new RaftCore(_configFor(nodeId), new Random(id), Storages[nodeId].LoadAsync().Result, _clock);
        Applied[nodeId] = new List<LogEntry>();
    }

    /// <summary>Replaces a node by one with an empty disk (same id): a lost or replaced drive.</summary>
    public void Wipe(int id)
    {
        var nodeId = new NodeId(id);
        Storages[nodeId] = new MemoryRaftStorage();
        Cores[nodeId] = new RaftCore(_configFor(nodeId), new Random(id), RaftPersistentState.Empty, _clock);
        Applied[nodeId] = new List<LogEntry>();
    }

    /// <summary>Processes every node's Ready and delivers messages until the network is quiet.</summary>
    public void Settle(int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            if (DeliverOneHop() == 0) return;
        }
        throw new InvalidOperationException("network did not settle");
    }

    /// <summary>Processes every node's Ready, then delivers the messages that produced (one network hop); returns
    /// how many were on the wire. Two hops are one round trip.</summary>
    public int DeliverOneHop()
    {
        foreach (var core in Cores.Values) Drain(core);
        var count = _wire.Count;
        for (var i = 0; i < count && _wire.TryDequeue(out var m); i++)
        {
            if (_cut.Contains((m.From, m.To)) || (Drop?.Invoke(m) ?? false)) continue;
            if (!Cores.TryGetValue(m.To, out var target)) continue;
            var decoded = MessageCodec.Decode(MessageCodec.Encode(m).Span);
            Delivered.Add(decoded);
            target.Step(decoded);
        }
        foreach (var core in Cores.Values) Drain(core);
        return count;
    }

    public void Tick(int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            foreach (var core in Cores.Values) core.Tick();
            Settle();
        }
    }

    public void TickNode(int id, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            this[id].Tick();
            Settle();
        }
    }

    /// <summary>Ticks until some node leads, or fails.</summary>
    public NodeId ElectLeader(int maxTicks = 1000)
    {
        for (var i = 0; i < maxTicks; i++)
        {
            if (Leader is { } leader) return leader;
            Tick();
        }
        throw new InvalidOperationException("no leader elected");
    }

    public ulong ProposeOn(NodeId id, string command)
    {
        var result = Cores[id].Propose(System.Text.Encoding.UTF8.GetBytes(command));
        if (!result.IsAccepted) throw new InvalidOperationException($"proposal refused: {result}");
        Settle();
        return result.Index;
    }

    public static string Text(LogEntry e) => System.Text.Encoding.UTF8.GetString(e.Data.Span);

    public List<string> AppliedCommands(NodeId id) =>
        Applied[id].Where(e => e.Kind == EntryKind.Normal).Select(Text).ToList();

    private void Drain(RaftCore core)
    {
        var storage = Storages[core.Id];
        while (core.HasReady)
        {
            var ready = core.Ready();
            foreach (var m in ready.MessagesNow)
                if (SnapshotChunks.FillAsync(storage, m).GetAwaiter().GetResult() is { } filled) _wire.Enqueue(filled);
            var installed = SnapshotChunks.PersistAsync(storage, ready).GetAwaiter().GetResult();
            storage.AppendAsync(ready.Entries);
            if (ready.HardState is { } hs) storage.SaveHardStateAsync(hs);
            if (ready.MustPersist) storage.SyncAsync();
            foreach (var m in ready.MessagesAfterPersist) _wire.Enqueue(m);
            if (installed is not null)
            {
                InstalledSnapshots[core.Id] = installed;
                Applied[core.Id].Clear();
            }
            foreach (var e in ready.CommittedEntries)
            {
                if (e.Kind == EntryKind.ConfChange) ConfChangeResults.Add((core.Id, e.Index, core.ApplyConfChange(e)));
            }
            Applied[core.Id].AddRange(ready.CommittedEntries);
            ReadStates.AddRange(ready.ReadStates);
            core.Advance(ready);
        }
    }
}
