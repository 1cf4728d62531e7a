using Flotilla.Kv.Client;
using Flotilla.Kv.Replicated.Testing;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.ShardKv.Client;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Group;
using Flotilla.ShardKv.Rpc;
using Flotilla.ShardKv.Server;
using Flotilla.Simulation;
using LinKvError = Flotilla.Linearizability.Kv.KvError;

namespace Flotilla.ShardKv.Testing;

/// <summary>What one simulated server node hosts: maybe a controller replica, and replicas of one or more groups,
/// side by side on one NodeContext (each group its own raft.&lt;gid&gt; service and raft/&lt;gid&gt;/ storage).</summary>
public sealed class ShardKvSimHost
{
    public ShardControllerServer? Controller { get; set; }
    public Dictionary<int, ShardGroupServer> Groups { get; } = new();
}

/// <summary>
/// A simulated sharded store, after 6.5840's shardkv config: the controller on n1..n3, group g on
/// n(3g-2)..n(3g) — so group 1 shares its nodes with the controller — clients on n101.., an admin node n200, and one
/// history of every client operation for the linearizability checker. Call its methods from a
/// <see cref="Simulator.RunTest"/> body.
/// </summary>
public sealed class ShardKvCluster
{
    public const int Replicas = 3, ShardCount = 10;
    private const int ClientIdBase = 100;
    private static readonly NodeId AdminId = new(200);

    private readonly Simulator _sim;
    private readonly long? _snapshotThreshold;
    private readonly int? _migrationPageBytes;
    private readonly Dictionary<string, ulong> _acked = new();
    private int _clients;
    private SimNode? _admin;
    private TransportShardChannel? _adminChannel;

    public ShardKvCluster(Simulator sim, int groups, long? snapshotThresholdBytes = null, int? migrationPageBytes = null)
    {
        _sim = sim;
        _migrationPageBytes = migrationPageBytes;
        GroupCount = groups;
        _snapshotThreshold = snapshotThresholdBytes;
        History = VersionedKv.CreateRecorder(sim.Time);
        foreach (var n in Enumerable.Range(1, groups * Replicas)) sim.AddNode(new NodeId(n), Boot);
    }

    public Simulator Sim => _sim;
    public int GroupCount { get; }
    public HistoryRecorder<KvInput, KvOutput> History { get; }
    public static IReadOnlyList<string> Controllers { get; } = ["n1", "n2", "n3"];

    public static IReadOnlyList<NodeId> NodesOf(int gid) => Enumerable.Range(Replicas * (gid - 1) + 1, Replicas).Select(i => new NodeId(i)).ToList();

    public static string[] EndpointsOf(int gid) => NodesOf(gid).Select(TransportShardChannel.EndpointOf).ToArray();

    private static int GroupOfNode(int node) => (node - 1) / Replicas + 1;

    private void Boot(SimNode node) => node.Post(async () =>
    {
        var host = new ShardKvSimHost();
        node.Service = host;
        if (node.Id.Value <= Replicas)
        {
            host.Controller = await ShardControllerServer.StartAsync(node.Context, new RsmOptions
            {
                Raft = new RaftNodeOptions { GroupId = ShardControllerServer.GroupId, Voters = NodesOf(1) },
                SnapshotThresholdBytes = _snapshotThreshold,
            }, ShardCount);
        }
        var gid = GroupOfNode(node.Id.Value);
        host.Groups[gid] = await ShardGroupServer.StartAsync(node.Context, new ShardGroupOptions
        {
            Gid = gid,
            ShardCount = ShardCount,
            Voters = NodesOf(gid),
            Controllers = Controllers,
            SnapshotThresholdBytes = _snapshotThreshold,
            MigrationPageBytes = _migrationPageBytes ?? ShardGroupOptions.DefaultMigrationPageBytes,
        }, new TransportShardChannel(node.Context));
    });

    public ShardKvSimHost? Host(int node) => _sim.Node(node).IsUp ? _sim.Node(node).Service as ShardKvSimHost : null;

    /// <summary>The running replicas of <paramref name="gid"/>.</summary>
    public IEnumerable<ShardGroupServer> ReplicasOf(int gid) =>
        NodesOf(gid).Select(n => Host(n.Value)?.Groups.GetValueOrDefault(gid)).Where(s => s is not null).Select(s => s!);

    public IEnumerable<ShardControllerServer> ControllerReplicas() =>
        NodesOf(1).Select(n => Host(n.Value)?.Controller).Where(s => s is not null).Select(s => s!);

    public Task SleepMs(int ms) => _sim.Delay(TimeSpan.FromMilliseconds(ms));

    // ------------------------------------------------------------ faults

    public void CrashGroup(int gid)
    {
        foreach (var n in NodesOf(gid)) _sim.Node(n).Crash();
        _sim.Log($"test: crashed group {gid}");
    }

    public void StartGroup(int gid)
    {
        foreach (var n in NodesOf(gid).Where(n => !_sim.Node(n).IsUp)) _sim.Node(n).Start();
    }

    public void CrashAll()
    {
        foreach (var g in Enumerable.Range(1, GroupCount)) CrashGroup(g);
    }

    public void StartAll()
    {
        foreach (var g in Enumerable.Range(1, GroupCount)) StartGroup(g);
    }

    // ------------------------------------------------------------ admin

    /// <summary>Submits a controller command from the admin node, retrying until a replica applies it. After an
    /// unanswered attempt, a join answered GroupExists (a leave: NoSuchGroup) means the earlier attempt applied; that
    /// is reported as Ok with the configuration it made (the latest, queried).</summary>
    public async Task<ControllerReply> SubmitAsync(byte[] command)
    {
        _admin ??= _sim.AddClient(AdminId);
        _adminChannel ??= new TransportShardChannel(_admin.Context);
        var op = ControllerCommand.Decode(command).Op;
        var deadline = _sim.Now + TimeSpan.FromSeconds(60);
        var unanswered = false;
        var next = 0;
        while (_sim.Now < deadline)
        {
            var endpoint = Controllers[next++ % Controllers.Count];
            var call = await _admin.InvokeAsync(() => _adminChannel.SubmitAsync(endpoint, command, TimeSpan.FromSeconds(1), CancellationToken.None));
            if (call.Reply is not { } reply)
            {
                unanswered = true;
                continue;
            }
            if (reply.Error == ControllerError.NotLeader)
            {
                await SleepMs(20);
                continue;
            }
            var repeated = unanswered && ((op == ControllerCommand.JoinOp && reply.Error == ControllerError.GroupExists) ||
                                          (op == ControllerCommand.LeaveOp && reply.Error == ControllerError.NoSuchGroup));
            if (!repeated) return reply;
            _sim.Log($"test: {op} was applied by an earlier, unanswered attempt");
            return await SubmitAsync(ControllerCommand.Query());
        }
        throw new ShardScenarioException($"no controller replica applied {op} within 60 s");
    }

    public async Task<ShardConfig> JoinAsync(params int[] gids)
    {
        var reply = await SubmitAsync(ControllerCommand.Join(gids.ToDictionary(g => g, EndpointsOf)));
        if (reply.Error != ControllerError.Ok) throw new ShardScenarioException($"join {string.Join(",", gids)}: {reply.Error}");
        _sim.Log($"test: joined {string.Join(",", gids)} -> configuration {reply.Config!.Num}");
        return reply.Config.ToConfig();
    }

    public async Task<ShardConfig> LeaveAsync(params int[] gids)
    {
        var reply = await SubmitAsync(ControllerCommand.Leave(gids));
        if (reply.Error != ControllerError.Ok) throw new ShardScenarioException($"leave {string.Join(",", gids)}: {reply.Error}");
        _sim.Log($"test: {string.Join(",", gids)} left -> configuration {reply.Config!.Num}");
        return reply.Config.ToConfig();
    }

    public async Task<ShardConfig> LatestAsync() => (await SubmitAsync(ControllerCommand.Query())).Config!.ToConfig();

    /// <summary>Waits until every group's running replicas have applied the latest configuration and settled.</summary>
    public async Task WaitSettledAsync(int seconds = 60)
    {
        var latest = await LatestAsync();
        var deadline = _sim.Now + TimeSpan.FromSeconds(seconds);
        while (true)
        {
            var lagging = Enumerable.Range(1, GroupCount)
                .Where(g => !ReplicasOf(g).Any(s => s.State.Current.Num == latest.Num && s.State.Settled)).ToList();
            if (lagging.Count == 0) return;
            if (_sim.Now > deadline)
                throw new ShardScenarioException($"groups {string.Join(",", lagging)} did not settle in configuration {latest.Num} within {seconds} s: " +
                    string.Join("; ", lagging.Select(g => $"g{g} " + string.Join(" ", ReplicasOf(g).Select(s => $"{s.Rsm.Id}@{s.State.Current.Num}:{string.Concat(Enumerable.Range(0, ShardCount).Select(x => s.State.StateOf(x).ToString()[0]))}")))));
            await SleepMs(50);
        }
    }

    // ------------------------------------------------------------ clients

    public (SimNode Node, RecordingClient Client, ShardKvClient Inner) AddClient(KvClientOptions? options = null)
    {
        var index = ++_clients;
        var node = _sim.AddClient(new NodeId(ClientIdBase + index));
        var inner = ShardKvClient.Over(node.Context, Controllers, options ?? new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(30), AttemptTimeout = TimeSpan.FromMilliseconds(300) });
        return (node, new RecordingClient(inner, History, index), inner);
    }

    /// <summary>A put acknowledged Ok at <paramref name="version"/>: the key is at least at version+1 from now on.</summary>
    public void Acknowledged(string key, ulong version) => _acked[key] = Math.Max(_acked.GetValueOrDefault(key), version + 1);

    /// <summary>Reads every key that was ever acknowledged with a fresh client (recorded) and requires each to be at
    /// least at its last acknowledged version; then checks the whole history.</summary>
    public async Task CheckFinalAsync()
    {
        var (node, client, _) = AddClient();
        foreach (var (key, version) in _acked.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var read = await node.InvokeAsync(() => client.GetAsync(key));
            if (!read.IsOk || read.Version < version)
                throw new ShardScenarioException($"acknowledged write lost: '{key}' read {read.Status} at version {read.Version}, acknowledged up to {version}");
        }
        foreach (var g in Enumerable.Range(1, GroupCount))
            foreach (var s in ReplicasOf(g))
                if (s.DriverErrors > 0) throw new ShardScenarioException($"group {g} on {s.Rsm.Id}: {s.DriverErrors} driver steps failed");
        CheckLinearizable();
    }

    public void CheckLinearizable()
    {
        var operations = History.Operations;
        var result = VersionedKv.Check(operations, new CheckOptions { Timeout = TimeSpan.FromSeconds(60) });
        var pending = operations.Count(o => o.ReturnTime is null);
        var maybe = operations.Count(o => o.Output?.Error == LinKvError.ErrMaybe);
        _sim.Log($"test: {operations.Count} operations ({pending} without an answer, {maybe} ErrMaybe): {result.Outcome}");
        if (result.Outcome == CheckOutcome.Ok) return;
        var failed = result.Partitions.FirstOrDefault(p => p.Outcome != CheckOutcome.Ok);
        throw new ShardScenarioException($"history of {operations.Count} operations is {result.Outcome} (key '{failed?.Key}')");
    }
}
