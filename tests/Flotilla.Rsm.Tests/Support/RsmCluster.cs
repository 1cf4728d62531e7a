using System.Text;
using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Rsm.Tests.Support;

/// <summary>
/// n simulated servers, each a <see cref="ReplicatedStateMachine"/> over an <see cref="AppendLogService"/> on its own
/// crash-surviving disk. Call its methods from a <see cref="Simulator.RunTest"/> body (virtual time).
/// </summary>
internal sealed class RsmCluster
{
    private readonly Simulator _sim;
    private readonly RsmOptions _options;
    private readonly bool _keepLog;
    private readonly bool _streaming;

    public RsmCluster(Simulator sim, int servers, long? snapshotThresholdBytes = null, bool keepLog = true, bool streaming = false)
    {
        _sim = sim;
        _keepLog = keepLog;
        _streaming = streaming;
        Servers = servers;
        _options = new RsmOptions
        {
            Raft = new RaftNodeOptions { GroupId = "rsm", Voters = All.Select(i => new NodeId(i)).ToList() },
            SnapshotThresholdBytes = snapshotThresholdBytes,
        };
        foreach (var i in All) sim.AddNode(new NodeId(i), Boot);
    }

    public int Servers { get; }
    public IEnumerable<int> All => Enumerable.Range(1, Servers);
    public Simulator Sim => _sim;

    private void Boot(SimNode node) => node.Post(async () =>
    {
        var rsm = await ReplicatedStateMachine.StartAsync(node.Context, _options, new AppendLogService(_keepLog, _streaming));
        node.Service = rsm;
    });

    public ReplicatedStateMachine? Rsm(int i) => _sim.Node(i).IsUp ? _sim.Node(i).Service as ReplicatedStateMachine : null;

    public AppendLogService? ServiceOf(int i) => Rsm(i)?.Service as AppendLogService;

    public Task SleepMs(int ms) => _sim.Delay(TimeSpan.FromMilliseconds(ms));

    /// <summary>Submits on server <paramref name="i"/>; null if it is down (or crashes meanwhile).</summary>
    public async Task<SubmitResult?> SubmitAsync(int i, string command)
    {
        var node = _sim.Node(i);
        if (!node.IsUp || node.Service is not ReplicatedStateMachine) return null;
        try
        {
            return await node.InvokeAsync(() => ((ReplicatedStateMachine)node.Service!).SubmitAsync(Encoding.UTF8.GetBytes(command)));
        }
        catch (NodeCrashedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Submits until some server applies it, trying servers in turn, but only retries after an answer that says the
    /// command certainly did not apply — so a command can never apply twice. Returns its position. Tries only servers
    /// that are connected (or those <paramref name="among"/> selects): a cut-off leader's outcome would be unknown.
    /// </summary>
    public async Task<long> SubmitToLeaderAsync(string command, int limitSeconds = 20, Func<int, bool>? among = null)
    {
        among ??= i => _sim.Network.IsConnected(new NodeId(i));
        var deadline = _sim.Now + TimeSpan.FromSeconds(limitSeconds);
        var server = 1;
        while (_sim.Now < deadline)
        {
            for (var k = 0; k < Servers; k++, server = server % Servers + 1)
            {
                if (!among(server) || await SubmitAsync(server, command) is not { } result) continue;
                if (result.IsOk) return AppendLogService.Position(result.Result);
                if (!result.DefinitelyNotApplied) throw new InvalidOperationException($"submit of '{command}' on {server} ended {result}: outcome unknown");
            }
            await SleepMs(50);
        }
        throw new TimeoutException($"'{command}' was not applied within {limitSeconds} s");
    }

    public async Task<int> WaitLeaderAsync(Func<int, bool>? among = null)
    {
        var deadline = _sim.Now + TimeSpan.FromSeconds(10);
        while (_sim.Now < deadline)
        {
            foreach (var i in All.Where(i => among?.Invoke(i) ?? true))
                if (Rsm(i) is { IsLeader: true }) return i;
            await SleepMs(50);
        }
        throw new TimeoutException("no leader within 10 s");
    }

    /// <summary>Waits until every running server applied exactly <paramref name="count"/> commands, then checks they
    /// agree on their content (same hash; the same log when logs are kept).</summary>
    public async Task CheckAgreementAsync(long count, IEnumerable<int>? servers = null)
    {
        var which = (servers ?? All).ToList();
        var deadline = _sim.Now + TimeSpan.FromSeconds(15);
        while (which.Any(i => ServiceOf(i)?.Count != count))
        {
            if (_sim.Now > deadline)
                throw new TimeoutException($"servers did not all apply {count} commands: {string.Join(", ", which.Select(Describe))}");
            await SleepMs(20);
        }
        var first = ServiceOf(which[0])!;
        foreach (var i in which.Skip(1))
        {
            var other = ServiceOf(i)!;
            Assert.Equal(first.Hash, other.Hash);
            Assert.Equal(first.Log, other.Log);
        }
    }

    private string Describe(int i) => Rsm(i) is { } r
        ? $"{i}: {ServiceOf(i)!.Count} commands, applied {r.AppliedIndex}, commit {r.Raft.CommitIndex}, last {r.Raft.LastIndex}, term {r.Raft.Term}{(r.IsLeader ? " leader" : "")}"
        : $"{i}: down";

    public long MaxPersistedBytes() => All.Select(Rsm).Where(r => r is not null).Max(r => r!.Raft.PersistedSizeBytes);

    public void Partition(IEnumerable<int> a, IEnumerable<int> b) =>
        _sim.Network.Partition(a.Select(i => new NodeId(i)).ToList(), b.Select(i => new NodeId(i)).ToList());
}
