using Flotilla.Kv.Client;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Replicated.Testing;

/// <summary>One shape of 6.5840's GenericTest: what the cluster suffers while clients run for a few rounds.</summary>
/// <param name="SharedKeys">How many keys all clients share (contended: their operations race on the same keys, so the
/// linearizability checker has orders to decide). Ignored when <paramref name="OwnKeys"/> is set.</param>
/// <param name="OwnKeys">The lab's layout: each client alone on its own key (no two clients ever touch the same
/// key, so the check is per client; kept only for the scenarios named <c>-own-keys</c>).</param>
public sealed record GenericSpec(
    int Servers = 5,
    int Clients = 1,
    bool Unreliable = false,
    bool Crash = false,
    bool Partitions = false,
    long? SnapshotThresholdBytes = null,
    int SharedKeys = ReplicatedKvScenarios.SharedKeys,
    bool OwnKeys = false,
    int Rounds = 5,
    int RoundMs = 5000,
    ReplicatedKvMutation Mutation = ReplicatedKvMutation.None,
    Raft.ReadMode Reads = Raft.ReadMode.Leader);

// 6.5840's GenericTest: clients loop over get-then-conditional-put while the network and the servers misbehave.
public static partial class ReplicatedKvScenarios
{
    /// <summary>A client operation gives up (recorded as pending, i.e. unknown) after this long; it keeps a scenario
    /// from waiting forever on a bug, and is far above any healthy latency.</summary>
    private static readonly KvClientOptions ClientOptions = new() { OperationTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>Makes values big enough that a few rounds fill the log past the snapshot threshold many times.</summary>
    private const string Padding = "................................";

    public static void Generic(Simulator sim, GenericSpec spec) => RunGeneric(sim, spec);

    /// <summary>Runs a GenericTest shape and returns its checked history (for tests that look at its shape).</summary>
    public static IReadOnlyList<Operation<KvInput, KvOutput>> RunGeneric(Simulator sim, GenericSpec spec)
    {
        IReadOnlyList<Operation<KvInput, KvOutput>> history = [];
        Run(sim, async () => history = await GenericBodyAsync(sim, spec));
        return history;
    }

    private static async Task<IReadOnlyList<Operation<KvInput, KvOutput>>> GenericBodyAsync(Simulator sim, GenericSpec spec)
    {
        sim.Network.Reliable = !spec.Unreliable;
        var c = new ReplicatedKvCluster(sim, spec.Servers, spec.SnapshotThresholdBytes, spec.Mutation, spec.Reads);
        var clients = Enumerable.Range(0, spec.Clients).Select(_ => c.AddClient(ClientOptions)).ToList();
        for (var round = 0; round < spec.Rounds; round++)
        {
            var stop = false;
            var work = clients.Select(cl => cl.Node.InvokeAsync(() => spec.OwnKeys
                ? OwnKeyLoopAsync(cl.Client, cl.Node.Context.Random, round, () => stop)
                : ContendedLoopAsync(cl.Client, cl.Node.Context.Random, spec.SharedKeys, round, () => stop))).ToList();
            var partitioner = spec.Partitions ? PartitionerAsync(c, () => stop) : Task.CompletedTask;
            await sim.Delay(TimeSpan.FromMilliseconds(spec.RoundMs));
            stop = true;
            await partitioner;
            c.Heal();
            var completed = 0;
            foreach (var w in work) completed += await w;
            if (completed == 0) throw new KvScenarioException($"round {round}: no client completed a single operation");
            if (spec.Crash)
            {
                c.CrashAll();
                await c.SleepMs(100);
                c.StartAll();
                await c.WaitAllServingAsync();
            }
            CheckPersistedBound(c, spec.SnapshotThresholdBytes);
        }
        if (spec.SnapshotThresholdBytes is not null && !c.All.Any(i => c.Server(i) is { } s && s.Rsm.SnapshotsTaken + s.Rsm.SnapshotsRestored > 0))
            throw new KvScenarioException("no server took or restored a snapshot: the scenario did not exercise snapshots");
        c.CheckLinearizable();
        return c.History.Operations;
    }

    /// <summary>The lab's client on its own key: gets it, then (half the time) writes it conditionally on the version
    /// read; values are unique per client, round and step, so the checker can tell every write apart. Returns how
    /// many operations got a definite answer.</summary>
    private static async Task<int> OwnKeyLoopAsync(RecordingClient client, Random random, int round, Func<bool> stop)
    {
        var answered = 0;
        var n = 0;
        var earlierPutUnknown = false;
        var key = $"c{client.ClientId}";
        while (!stop())
        {
            var get = await client.GetAsync(key);
            if (get.Status is KvStatus.Unavailable) continue;
            answered++;
            if (random.Next(2) == 0) continue;
            var put = await client.PutAsync(key, $"c{client.ClientId}-r{round}-{n++}-{Padding}", get.IsOk ? get.Version : 0);
            if (put.Status != KvStatus.Unavailable) answered++;
            else earlierPutUnknown = true;
            // A put on a client's own key, at the version it just read, can only lose to its own earlier attempt
            // (ErrMaybe), unless an earlier put of its own with an unknown outcome applied meanwhile.
            if (!earlierPutUnknown && put.Status is KvStatus.ErrVersion or KvStatus.ErrNoKey)
                throw new KvScenarioException($"client {client.ClientId} alone on its key got {put.Status}");
        }
        return answered;
    }

    /// <summary>Splits the servers in two random groups every election timeout or so (clients reach everyone).</summary>
    private static async Task PartitionerAsync(ReplicatedKvCluster c, Func<bool> stop)
    {
        while (!stop())
        {
            var a = new List<NodeId>();
            var b = new List<NodeId>();
            foreach (var id in c.ServerIds) (c.Sim.Random.Next(2) == 0 ? a : b).Add(id);
            c.Partition(a, b);
            await c.SleepMs(1000 + c.Sim.Random.Next(200));
        }
    }

    private static void CheckPersistedBound(ReplicatedKvCluster c, long? threshold)
    {
        if (threshold is not { } t) return;
        var size = c.MaxPersistedBytes();
        if (size > 8 * t) throw new KvScenarioException($"persisted Raft state is {size} bytes, over 8x the {t}-byte snapshot threshold");
    }
}
