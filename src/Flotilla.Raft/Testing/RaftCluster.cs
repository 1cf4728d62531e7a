using System.Text;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Simulation;
using Flotilla.Wal;

namespace Flotilla.Raft.Testing;

/// <summary>
/// A simulated Raft cluster for scenarios, after MIT 6.5840's raft config.go: n nodes on a <see cref="Simulator"/>,
/// each a <see cref="RaftNode"/> over WAL storage on the node's crash-surviving disk, with an applier per node that
/// checks every node applies the same command at each index, in order. Call its methods from a
/// <see cref="Simulator.RunTest"/> body (virtual time).
/// </summary>
public sealed class RaftCluster
{
    public const string Group = "g";
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(1);

    private readonly Simulator _sim;
    private readonly RaftNodeOptions _options;
    private readonly int? _snapshotEvery;
    private readonly Dictionary<ulong, string> _committed = new();
    private readonly Dictionary<int, AppliedState> _applied = new();
    private readonly HashSet<int> _disconnected = new();
    private readonly List<string> _errors = new();
    private readonly Dictionary<int, Exception> _bootFailures = new();
    private readonly int _bootstrapVoters;

    /// <param name="snapshotEvery">When set, each node's service snapshots its state every that many applied entries.</param>
    /// <param name="voters">When set, the group bootstraps with servers 1..voters; the others start as joiners
    /// (<see cref="RaftNodeOptions.Join"/>) that wait for a membership change to add them.</param>
    public RaftCluster(Simulator sim, int servers, int? snapshotEvery = null, Func<RaftNodeOptions, RaftNodeOptions>? tune = null, int? voters = null)
    {
        _sim = sim;
        _snapshotEvery = snapshotEvery;
        Servers = servers;
        _bootstrapVoters = voters ?? servers;
        var options = new RaftNodeOptions { GroupId = Group, Voters = Enumerable.Range(1, _bootstrapVoters).Select(i => new NodeId(i)).ToList() };
        _options = tune is null ? options : tune(options);
        for (var i = 1; i <= servers; i++) sim.AddNode(new NodeId(i), Boot);
    }

    public int Servers { get; }
    public Simulator Sim => _sim;
    public IEnumerable<int> All => Enumerable.Range(1, Servers);

    /// <summary>Raft traffic so far (messages sent, whether or not delivered).</summary>
    public long RpcCount => _sim.Network.Stats.ForService(_options.Service).Rpcs;
    public long RpcBytes => _sim.Network.Stats.ForService(_options.Service).Bytes;

    /// <summary>Request-type messages only (votes, appends, heartbeats, snapshot chunks, TimeoutNow), the way
    /// 6.5840 counts RPCs: a request and its response are one RPC there.</summary>
    public long RequestCount => _sim.Network.Stats.Where(IsRequestMethod).Rpcs;

    private bool IsRequestMethod(string method) =>
        RpcRouter.ServiceOf(method) == _options.Service && !method.EndsWith("response", StringComparison.Ordinal);

    public RaftNode? NodeOf(int i)
    {
        var node = _sim.Node(i);
        return node.IsUp ? node.Service as RaftNode : null;
    }

    public bool IsUp(int i) => _sim.Node(i).IsUp;
    public bool IsConnected(int i) => !_disconnected.Contains(i);

    // ------------------------------------------------------------ boot and applier

    private void Boot(SimNode node)
    {
        var i = node.Id.Value;
        var state = new AppliedState();
        _applied[i] = state;
        _ = StartAsync(node, state);
    }

    private async Task StartAsync(SimNode node, AppliedState state)
    {
        RaftNode raft;
        try
        {
            raft = await RaftNode.CreateAsync(node.Context, node.Id.Value > _bootstrapVoters ? _options with { Join = true } : _options);
        }
        catch (Exception e) when (e is WalCorruptionException or Flotilla.Wal.Snapshots.SnapshotCorruptionException)
        {
            // The member refuses to start on damaged storage (as the real server exits with code 4).
            _bootFailures[node.Id.Value] = e;
            _sim.Log($"server {node.Id.Value} refuses to start: {e.Message}");
            return;
        }
        _bootFailures.Remove(node.Id.Value);
        node.Service = raft;
        await raft.StartAsync();
        var reader = raft.Applies;
        while (await reader.WaitToReadAsync())
            while (reader.TryRead(out var msg))
            {
                // A snapshot's data may live in storage (a stream): read it whole, this test service is small.
                if (msg is { Kind: ApplyKind.Snapshot, Snapshot: { } snapshot }) msg = msg with { Data = await snapshot.ReadAllAsync() };
                Apply(node.Id.Value, state, raft, msg);
            }
    }

    private void Apply(int server, AppliedState state, RaftNode raft, ApplyMsg msg)
    {
        switch (msg.Kind)
        {
            case ApplyKind.Snapshot:
                if (msg.Index <= state.LastApplied && state.LastApplied != 0)
                {
                    Error($"server {server} got snapshot at {msg.Index} after applying {state.LastApplied}");
                    return;
                }
                state.Log.Clear();
                foreach (var (index, cmd) in DecodeSnapshot(msg.Data.Span))
                {
                    CheckAgreement(server, index, cmd);
                    state.Log[index] = cmd;
                }
                state.LastApplied = msg.Index;
                return;
            default:
                if (msg.Index != state.LastApplied + 1)
                {
                    Error($"server {server} applied index {msg.Index} out of order (after {state.LastApplied})");
                    return;
                }
                state.LastApplied = msg.Index;
                if (msg.Kind == ApplyKind.Command)
                {
                    var cmd = Encoding.UTF8.GetString(msg.Data.Span);
                    CheckAgreement(server, msg.Index, cmd);
                    state.Log[msg.Index] = cmd;
                }
                if (_snapshotEvery is { } every && msg.Index % (ulong)every == 0)
                    raft.Snapshot(msg.Index, EncodeSnapshot(state.Log));
                return;
        }
    }

    private void CheckAgreement(int server, ulong index, string cmd)
    {
        if (_committed.TryGetValue(index, out var other) && other != cmd)
            Error($"apply error: server {server} applied '{cmd}' at index {index} but another server applied '{other}'");
        _committed[index] = cmd;
    }

    private void Error(string message)
    {
        _errors.Add(message);
        _sim.Log(message);
    }

    /// <summary>Throws if any applier saw a disagreement or a gap.</summary>
    public void CheckApplyErrors()
    {
        if (_errors.Count > 0) throw new RaftScenarioException(_errors[0]);
    }

    private static byte[] EncodeSnapshot(SortedDictionary<ulong, string> log)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(log.Count);
        foreach (var (index, cmd) in log)
        {
            writer.Write(index);
            writer.Write(cmd);
        }
        writer.Flush();
        return stream.ToArray();
    }

    private static List<(ulong Index, string Cmd)> DecodeSnapshot(ReadOnlySpan<byte> data)
    {
        using var reader = new BinaryReader(new MemoryStream(data.ToArray()));
        var count = reader.ReadInt32();
        var result = new List<(ulong, string)>(count);
        for (var i = 0; i < count; i++) result.Add((reader.ReadUInt64(), reader.ReadString()));
        return result;
    }

    private sealed class AppliedState
    {
        public ulong LastApplied;
        public SortedDictionary<ulong, string> Log { get; } = new();
    }

    // ------------------------------------------------------------ faults

    /// <summary>Why server <paramref name="i"/>'s last start was refused (damaged storage), or null.</summary>
    public Exception? BootFailure(int i) => _bootFailures.GetValueOrDefault(i);

    /// <summary>Damage a crash cannot do: the newest WAL segment of a server that is down is deleted or emptied (an
    /// operator's mistake, a bad restore). Returns the file's name.</summary>
    public async Task<string> LoseWalTailAsync(int i, bool delete)
    {
        if (IsUp(i)) throw new InvalidOperationException($"server {i} must be down to lose its WAL tail");
        var disk = _sim.Node(i).Storage;
        var last = disk.List($"{_options.StorageDirectory}/wal/").Where(n => n.EndsWith(".seg", StringComparison.Ordinal)).Max(StringComparer.Ordinal)
            ?? throw new InvalidOperationException($"server {i} has no WAL segment");
        if (delete)
        {
            disk.Delete(last);
        }
        else
        {
            using var file = disk.Open(last, create: false);
            file.SetLength(0);
            await file.FlushAsync();
        }
        await disk.SyncDirectoryAsync();
        _sim.Log($"test: server {i} loses {last} ({(delete ? "deleted" : "emptied")})");
        return last;
    }

    public void Disconnect(int i)
    {
        _disconnected.Add(i);
        _sim.Network.Disconnect(new NodeId(i));
        _sim.Log($"test: disconnect {i}");
    }

    public void Connect(int i)
    {
        _disconnected.Remove(i);
        _sim.Network.Connect(new NodeId(i));
        _sim.Log($"test: connect {i}");
    }

    public void Crash(int i)
    {
        _sim.Node(i).Crash();
        _sim.Log($"test: crash {i}");
    }

    public void Restart(int i)
    {
        if (_sim.Node(i).IsUp) _sim.Node(i).Crash();
        _sim.Node(i).Start();
        _sim.Log($"test: restart {i}");
    }

    public bool Reliable
    {
        get => _sim.Network.Reliable;
        set => _sim.Network.Reliable = value;
    }

    // ------------------------------------------------------------ checks

    public Task Sleep(TimeSpan t) => _sim.Delay(t);
    public Task SleepMs(int ms) => _sim.Delay(TimeSpan.FromMilliseconds(ms));

    /// <summary>Waits (up to ~5 s) until exactly one connected node leads the newest term; fails on two leaders in a term.</summary>
    public async Task<int> CheckOneLeaderAsync()
    {
        for (var iteration = 0; iteration < 10; iteration++)
        {
            await SleepMs(450 + _sim.Random.Next(100));
            var leaders = new Dictionary<ulong, List<int>>();
            foreach (var i in All.Where(i => IsConnected(i)))
            {
                if (NodeOf(i) is { IsLeader: true } node)
                {
                    if (!leaders.TryGetValue(node.Term, out var list)) leaders[node.Term] = list = [];
                    list.Add(i);
                }
            }
            foreach (var (term, list) in leaders)
                if (list.Count > 1) throw new RaftScenarioException($"term {term} has {list.Count} leaders: {string.Join(",", list)}");
            if (leaders.Count > 0) return leaders[leaders.Keys.Max()][0];
        }
        throw new RaftScenarioException("expected one leader, got none");
    }

    /// <summary>All connected, running nodes agree on the term; returns it.</summary>
    public ulong CheckTerms()
    {
        ulong? term = null;
        foreach (var i in All.Where(i => IsConnected(i)))
        {
            if (NodeOf(i) is not { } node) continue;
            if (term is null) term = node.Term;
            else if (term != node.Term) throw new RaftScenarioException($"servers disagree on term: {term} vs {node.Term}");
        }
        return term ?? throw new RaftScenarioException("no running connected server");
    }

    public void CheckNoLeader()
    {
        foreach (var i in All.Where(i => IsConnected(i)))
            if (NodeOf(i) is { IsLeader: true }) throw new RaftScenarioException($"expected no leader among connected servers, but {i} claims to be leader");
    }

    /// <summary>How many servers applied <paramref name="index"/>, and the command there.</summary>
    public (int Count, string? Command) NCommitted(ulong index)
    {
        CheckApplyErrors();
        var count = 0;
        string? cmd = null;
        foreach (var i in All)
        {
            if (!_applied.TryGetValue(i, out var state) || !state.Log.TryGetValue(index, out var c)) continue;
            if (cmd is not null && cmd != c) throw new RaftScenarioException($"committed values do not match at index {index}: '{cmd}' vs '{c}'");
            count++;
            cmd = c;
        }
        return (count, cmd);
    }

    /// <summary>Proposes on <paramref name="server"/> if it is up; the (index, term) or null if it refused.</summary>
    public async Task<(ulong Index, ulong Term)?> StartAsync(int server, string cmd)
    {
        var node = _sim.Node(server);
        if (!node.IsUp || node.Service is not RaftNode) return null;
        try
        {
            var result = await node.InvokeAsync(() => (node.Service as RaftNode)?.Propose(Encoding.UTF8.GetBytes(cmd)) ?? ProposeResult.NotLeader(null));
            return result.IsAccepted ? (result.Index, result.Term) : null;
        }
        catch (NodeCrashedException)
        {
            return null;
        }
    }

    /// <summary>
    /// 6.5840's one(): submits <paramref name="cmd"/> to whichever server accepts it and waits for
    /// <paramref name="expectedServers"/> servers to apply it at the same index. With <paramref name="retry"/> it
    /// resubmits when a leader fails; without, a submission that does not commit fails the scenario. Gives up after 10 s.
    /// </summary>
    public async Task<ulong> OneAsync(string cmd, int expectedServers, bool retry)
    {
        var deadline = _sim.Now + TimeSpan.FromSeconds(10);
        var starter = 0;
        while (_sim.Now < deadline)
        {
            ulong? index = null;
            for (var k = 0; k < Servers; k++)
            {
                starter = starter % Servers + 1;
                if (!IsConnected(starter)) continue;
                if (await StartAsync(starter, cmd) is { } accepted)
                {
                    index = accepted.Index;
                    break;
                }
            }
            if (index is { } at)
            {
                var waitUntil = _sim.Now + TimeSpan.FromSeconds(2);
                while (_sim.Now < waitUntil)
                {
                    var (count, value) = NCommitted(at);
                    if (count > 0 && count >= expectedServers && value == cmd) return at;
                    await SleepMs(20);
                }
                if (!retry) throw new RaftScenarioException($"one({cmd}) failed to reach agreement on {expectedServers} servers");
            }
            else
            {
                await SleepMs(50);
            }
        }
        throw new RaftScenarioException($"one({cmd}) failed to reach agreement within 10 s");
    }

    /// <summary>Waits until at least <paramref name="n"/> servers applied <paramref name="index"/>, or the term moved on.</summary>
    public async Task<string?> WaitAsync(ulong index, int n, ulong startTerm)
    {
        var delay = 10;
        for (var iteration = 0; iteration < 30; iteration++)
        {
            var (count, _) = NCommitted(index);
            if (count >= n) break;
            await SleepMs(delay);
            if (delay < 1000) delay *= 2;
            if (startTerm != 0 && All.Select(NodeOf).Any(node => node is not null && node.Term > startTerm)) return null;
        }
        var (final, cmd) = NCommitted(index);
        if (final < n) throw new RaftScenarioException($"only {final} servers applied index {index}, wanted {n}");
        return cmd;
    }

    /// <summary>Proposes <paramref name="change"/> through <see cref="RaftNode.ProposeConfChangeAsync"/> on the current
    /// leader until it is Applied or Refused (retrying NotLeader, Busy, Lost and Unknown), for up to 10 s.</summary>
    public async Task<ConfChangeOutcome> ChangeAsync(ConfChange change)
    {
        var deadline = _sim.Now + TimeSpan.FromSeconds(10);
        ConfChangeOutcome last = default;
        while (_sim.Now < deadline)
        {
            var leader = await CheckOneLeaderAsync();
            try
            {
                using var cts = new CancellationTokenSource();
                _ = _sim.Delay(TimeSpan.FromSeconds(3)).ContinueWith(_ => cts.Cancel(), TaskScheduler.Current);
                last = await _sim.Node(leader).InvokeAsync(() => NodeOf(leader)!.ProposeConfChangeAsync(change, cts.Token));
            }
            catch (NodeCrashedException)
            {
                continue;
            }
            _sim.Log($"test: {change} on {leader}: {last}");
            if (last.Status is ConfChangeStatus.Applied or ConfChangeStatus.Refused) return last;
            await SleepMs(50);
        }
        throw new RaftScenarioException($"membership change {change} did not complete within 10 s (last: {last})");
    }

    /// <summary>Waits (up to 10 s) until the leader reports <paramref name="peer"/> within <paramref name="maxLag"/>
    /// entries of its last index (<see cref="RaftNode.IsCaughtUp"/>).</summary>
    public async Task WaitCaughtUpAsync(int peer, ulong maxLag)
    {
        var deadline = _sim.Now + TimeSpan.FromSeconds(10);
        while (_sim.Now < deadline)
        {
            if (All.Select(NodeOf).Any(n => n is { IsLeader: true } l && l.IsCaughtUp(new NodeId(peer), maxLag))) return;
            await SleepMs(20);
        }
        throw new RaftScenarioException($"server {peer} did not catch up within {maxLag} entries in 10 s");
    }

    /// <summary>Largest logical Raft state (hard state plus the log entries after the snapshot, encoded) over
    /// running servers: what 6.5840's persister.RaftStateSize measures.</summary>
    public long MaxRaftStateBytes() => All.Select(NodeOf).Where(n => n is not null).Select(n => n!.RaftStateBytes).DefaultIfEmpty(0).Max();

    /// <summary>Largest log size (bytes persisted) over running servers.</summary>
    public long MaxPersistedBytes() => All.Select(NodeOf).Where(n => n is not null).Select(n => n!.PersistedSizeBytes).DefaultIfEmpty(0).Max();
}

/// <summary>A scenario's check failed.</summary>
public sealed class RaftScenarioException(string message) : Exception(message);
