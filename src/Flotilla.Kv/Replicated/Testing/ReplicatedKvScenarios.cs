using Flotilla.Simulation;

namespace Flotilla.Kv.Replicated.Testing;

/// <summary>
/// The replicated-KV scenarios (after MIT 6.5840 lab 4A/4B, "kvraft") as a suite: xunit runs each over a few seeds,
/// <c>flotilla sim kv --seeds N</c> soaks them. Every scenario checks its whole client history with the
/// linearizability checker and throws <see cref="KvScenarioException"/> when the store misbehaves.
/// <para>Unlike the lab, where each client writes only its own key, the GenericTest shapes here are contended: all
/// clients share <see cref="SharedKeys"/> keys, so their operations overlap on the same key and the checker has to
/// decide an order. Only the scenarios named <c>-own-keys</c> keep the lab's one key per client.</para>
/// </summary>
public static partial class ReplicatedKvScenarios
{
    /// <summary>Snapshot threshold of the 4B scenarios. The WAL's smallest segment is 4 KiB and compaction frees whole
    /// segments, so thresholds much below that cannot hold the 8x bound on any implementation of this WAL.</summary>
    public const long SnapshotThresholdBytes = 4096;

    /// <summary>Keys shared by all clients of a contended scenario: few enough that 5-15 clients collide all the time.</summary>
    public const int SharedKeys = 3;

    public static ScenarioSuite Suite { get; } = new("kv", "Replicated versioned KV on Raft: partitions, crashes, snapshots, linearizability (6.5840 4A-4B).",
    [
        new Scenario("basic", Basic),
        new Scenario("concurrent", Concurrent),
        new Scenario("concurrent-own-keys", ConcurrentOwnKeys),
        new Scenario("unreliable", Unreliable),
        new Scenario("one-partition", OnePartition),
        new Scenario("many-partitions-one-client", ManyPartitionsOneClient),
        new Scenario("many-partitions-many-clients", ManyPartitionsManyClients),
        new Scenario("persist-one-client", PersistOneClient),
        new Scenario("persist-concurrent", PersistConcurrent),
        new Scenario("persist-concurrent-unreliable", PersistConcurrentUnreliable),
        new Scenario("persist-partition", PersistPartition),
        new Scenario("persist-partition-unreliable", PersistPartitionUnreliable),
        new Scenario("persist-partition-unreliable-random-keys", PersistPartitionUnreliableRandomKeys),
        new Scenario("snapshot-rpc", SnapshotRpc),
        new Scenario("snapshot-size", SnapshotSize),
        new Scenario("snapshot-recover", SnapshotRecover),
        new Scenario("snapshot-recover-many-clients", SnapshotRecoverManyClients),
        new Scenario("snapshot-unreliable", SnapshotUnreliable),
        new Scenario("snapshot-unreliable-recover", SnapshotUnreliableRecover),
        new Scenario("snapshot-unreliable-recover-partitions", SnapshotUnreliableRecoverPartitions),
        new Scenario("snapshot-unreliable-recover-partitions-linearizable", SnapshotUnreliableRecoverPartitionsLinearizable),
        new Scenario("speed", Speed),
        new Scenario("speed-snapshots", SpeedSnapshots),
        new Scenario("lease-reads-contended", LeaseReadsContended),
        new Scenario("follower-reads-contended", FollowerReadsContended),
        new Scenario("lease-reads-paused-leader", LeaseReadsPausedLeader),
    ]);

    private static void Run(Simulator sim, Func<Task> body, int limitSeconds = 600) => sim.RunTest(body, TimeSpan.FromSeconds(limitSeconds));

    // ------------------------------------------------------------ 4A

    public static void Basic(Simulator sim) => Generic(sim, new GenericSpec(Clients: 1));
    public static void Concurrent(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5));

    /// <summary>The lab's TestConcurrent as written: five clients, each alone on its own key.</summary>
    public static void ConcurrentOwnKeys(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, OwnKeys: true));
    public static void Unreliable(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, Unreliable: true));
    public static void ManyPartitionsOneClient(Simulator sim) => Generic(sim, new GenericSpec(Clients: 1, Partitions: true));
    public static void ManyPartitionsManyClients(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, Partitions: true));
    public static void PersistOneClient(Simulator sim) => Generic(sim, new GenericSpec(Clients: 1, Crash: true));
    public static void PersistConcurrent(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, Crash: true));
    public static void PersistConcurrentUnreliable(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, Unreliable: true, Crash: true));
    public static void PersistPartition(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, Crash: true, Partitions: true));
    public static void PersistPartitionUnreliable(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, Unreliable: true, Crash: true, Partitions: true));

    /// <summary>Everything at once (the lab's PersistPartitionUnreliableLinearizable): 7 servers, 15 clients on the
    /// shared keys, a lossy network, partitions, and every server crashing between rounds.</summary>
    public static void PersistPartitionUnreliableRandomKeys(Simulator sim) =>
        Generic(sim, new GenericSpec(Servers: 7, Clients: 15, Unreliable: true, Crash: true, Partitions: true));

    // ------------------------------------------------------------ 4B

    public static void SnapshotRecover(Simulator sim) => Generic(sim, new GenericSpec(Clients: 1, Crash: true, SnapshotThresholdBytes: SnapshotThresholdBytes));
    public static void SnapshotRecoverManyClients(Simulator sim) => Generic(sim, new GenericSpec(Clients: 10, Crash: true, SnapshotThresholdBytes: SnapshotThresholdBytes));
    public static void SnapshotUnreliable(Simulator sim) => Generic(sim, new GenericSpec(Clients: 5, Unreliable: true, SnapshotThresholdBytes: SnapshotThresholdBytes));

    public static void SnapshotUnreliableRecover(Simulator sim) =>
        Generic(sim, new GenericSpec(Clients: 5, Unreliable: true, Crash: true, SnapshotThresholdBytes: SnapshotThresholdBytes));

    public static void SnapshotUnreliableRecoverPartitions(Simulator sim) =>
        Generic(sim, new GenericSpec(Clients: 5, Unreliable: true, Crash: true, Partitions: true, SnapshotThresholdBytes: SnapshotThresholdBytes));

    /// <summary>The 4C linearizable variant: 7 servers, 15 clients on the shared keys, a lossy network, partitions,
    /// crashes of every server between rounds, and snapshots.</summary>
    public static void SnapshotUnreliableRecoverPartitionsLinearizable(Simulator sim) =>
        Generic(sim, new GenericSpec(Servers: 7, Clients: 15, Unreliable: true, Crash: true, Partitions: true, SnapshotThresholdBytes: SnapshotThresholdBytes));
}
