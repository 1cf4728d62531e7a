using Flotilla.Kv.Client;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Replicated.Testing;

/// <summary>
/// A simulated replicated-KV deployment, after 6.5840's kvraft config: servers n1..nN (each a
/// <see cref="ReplicatedKvServer"/> on its own crash-surviving disk), client nodes n101.., and one history of every
/// client operation for the linearizability checker. Call its methods from a <see cref="Simulator.RunTest"/> body.
/// </summary>
public sealed class ReplicatedKvCluster
{
    public const string Group = "kv";
    private const int ClientIdBase = 100;

    private readonly Simulator _sim;
    private readonly RsmOptions _options;
    private readonly ReplicatedKvMutation _mutation;
    private int _clients;

    /// <param name="mutation">A deliberate server bug (mutation checks only).</param>
    /// <param name="reads">Where the servers answer gets (leader ReadIndex, leader lease, or any member).</param>
    public ReplicatedKvCluster(Simulator sim, int servers, long? snapshotThresholdBytes = null, ReplicatedKvMutation mutation = ReplicatedKvMutation.None,
        ReadMode reads = ReadMode.Leader)
    {
        _sim = sim;
        _mutation = mutation;
        Servers = servers;
        ServerIds = Enumerable.Range(1, servers).Select(i => new NodeId(i)).ToList();
        var raft = new RaftNodeOptions { GroupId = Group, Voters = ServerIds }.WithReads(mutation == ReplicatedKvMutation.TickBasedLease ? ReadMode.Lease : reads);
        if (mutation == ReplicatedKvMutation.TickBasedLease) raft = Raft.Testing.RaftMutations.WithTickBasedLease(raft);
        Reads = reads;
        _options = new RsmOptions { Raft = raft, SnapshotThresholdBytes = snapshotThresholdBytes };
        History = VersionedKv.CreateRecorder(sim.Time);
        foreach (var id in ServerIds) sim.AddNode(id, Boot);
    }

    public Simulator Sim => _sim;
    public ReadMode Reads { get; }
    public int Servers { get; }
    public IReadOnlyList<NodeId> ServerIds { get; }
    public IEnumerable<int> All => Enumerable.Range(1, Servers);
    public HistoryRecorder<KvInput, KvOutput> History { get; }

    /// <summary>The heartbeat period of the groups: the unit of the speed scenario.</summary>
    public TimeSpan HeartbeatInterval => _options.Raft.TickInterval * _options.Raft.HeartbeatTicks;

    private void Boot(SimNode node) => node.Post(async () =>
    {
        var server = await ReplicatedKvServer.StartAsync(node.Context, _options);
        server.Mutation = _mutation;
        node.Service = server;
    });

    public ReplicatedKvServer? Server(int i) => _sim.Node(i).IsUp ? _sim.Node(i).Service as ReplicatedKvServer : null;

    /// <summary>Adds a client node whose client tries every server (or <paramref name="endpoints"/>, in that order)
    /// and records into <see cref="History"/>.</summary>
    public (SimNode Node, RecordingClient Client) AddClient(KvClientOptions? options = null, IReadOnlyList<NodeId>? endpoints = null)
    {
        var index = ++_clients;
        var node = _sim.AddClient(new NodeId(ClientIdBase + index));
        // With follower reads every member serves gets: spread them, so followers really answer some.
        if (Reads == ReadMode.Follower) options = (options ?? new KvClientOptions()) with { ReadFromAnyMember = true };
        var client = new RecordingClient(KvClient.Over(node.Context, endpoints ?? ServerIds, options), History, index);
        return (node, client);
    }

    public Task SleepMs(int ms) => _sim.Delay(TimeSpan.FromMilliseconds(ms));

    /// <summary>Waits until a running server leads; returns it.</summary>
    public async Task<int> WaitLeaderAsync(Func<int, bool>? among = null)
    {
        var deadline = _sim.Now + TimeSpan.FromSeconds(10);
        while (_sim.Now < deadline)
        {
            foreach (var i in All.Where(i => among?.Invoke(i) ?? true))
                if (Server(i)?.Rsm is { IsLeader: true }) return i;
            await SleepMs(50);
        }
        throw new KvScenarioException("no leader within 10 s");
    }

    /// <summary>Waits until every server finished booting (recovered its state) and one of them leads.</summary>
    public async Task WaitAllServingAsync()
    {
        var deadline = _sim.Now + TimeSpan.FromSeconds(10);
        while (All.Any(i => Server(i) is null))
        {
            if (_sim.Now > deadline) throw new KvScenarioException("servers did not finish booting within 10 s");
            await SleepMs(10);
        }
        await WaitLeaderAsync();
    }

    public void CrashAll()
    {
        foreach (var i in All) _sim.Node(i).Crash();
        _sim.Log("test: crashed every server");
    }

    public void StartAll()
    {
        foreach (var i in All.Where(i => !_sim.Node(i).IsUp)) _sim.Node(i).Start();
    }

    /// <summary>Splits the servers (and the given clients) into groups that cannot talk across.</summary>
    public void Partition(params IEnumerable<NodeId>[] groups) => _sim.Network.Partition(groups.Select(g => (IReadOnlyCollection<NodeId>)g.ToList()).ToArray());

    public void Heal() => _sim.Network.Heal();

    /// <summary>Largest persisted Raft state (WAL + snapshot) over running servers.</summary>
    public long MaxPersistedBytes() => All.Select(Server).Where(s => s is not null).Select(s => s!.Rsm.Raft.PersistedSizeBytes).DefaultIfEmpty(0).Max();

    /// <summary>Checks the whole history; throws with the failing key when it is not linearizable.</summary>
    public void CheckLinearizable()
    {
        var operations = History.Operations;
        var result = VersionedKv.Check(operations, new CheckOptions { Timeout = TimeSpan.FromSeconds(60) });
        var pending = operations.Count(o => o.ReturnTime is null);
        var maybe = operations.Count(o => o.Output?.Error == KvError.ErrMaybe);
        var contention = HistoryContention.Measure(operations);
        var cores = All.Select(Server).Where(s => s is not null).Select(s => s!.Rsm.Raft.Core).ToList();
        _sim.Log($"test: {operations.Count} operations ({pending} without an answer, {maybe} ErrMaybe, {contention.OverlappingPairs} " +
                 $"overlapping same-key pairs on {contention.ContendedKeys} keys; reads since the last restart: {cores.Sum(c => c.LeaseReadsServed)} " +
                 $"by lease, {cores.Sum(c => c.ForwardedReadsServed)} by followers): {result.Outcome}");
        if (result.Outcome == CheckOutcome.Ok) return;
        var failed = result.Partitions.FirstOrDefault(p => p.Outcome != CheckOutcome.Ok);
        throw new KvScenarioException($"history of {operations.Count} operations is {result.Outcome} (key '{failed?.Key}')");
    }
}
