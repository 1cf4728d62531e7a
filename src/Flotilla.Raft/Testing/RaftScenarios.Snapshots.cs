using Flotilla.Simulation;
using Flotilla.Wal;

namespace Flotilla.Raft.Testing;

// 6.5840 lab 3D: log compaction and InstallSnapshot.
public static partial class RaftScenarios
{
    private const int SnapshotInterval = 10;

    /// <summary>Persisted bytes a node may hold while its service snapshots every <see cref="SnapshotInterval"/>
    /// entries: a few small WAL segments plus the snapshot.</summary>
    private const long MaxPersistedBytes = 64 * 1024;

    /// <summary>6.5840's MAXLOGSIZE: the Raft state (hard state and log after the snapshot) stays below it.</summary>
    private const long MaxRaftStateBytes = 2_000;

    private static RaftNodeOptions SmallWal(RaftNodeOptions o) =>
        o with { Wal = new WalOptions { SegmentBytes = 4096, Preallocate = false }, SnapshotChunkBytes = 512 };

    public static void SnapshotBasic(Simulator sim) => SnapshotCommon(sim, disconnect: false, reliable: true, crash: false);
    public static void SnapshotInstall(Simulator sim) => SnapshotCommon(sim, disconnect: true, reliable: true, crash: false);
    public static void SnapshotInstallUnreliable(Simulator sim) => SnapshotCommon(sim, disconnect: true, reliable: false, crash: false);
    public static void SnapshotInstallCrash(Simulator sim) => SnapshotCommon(sim, disconnect: false, reliable: true, crash: true);
    public static void SnapshotInstallUnreliableCrash(Simulator sim) => SnapshotCommon(sim, disconnect: false, reliable: false, crash: true);

    private static void SnapshotCommon(Simulator sim, bool disconnect, bool reliable, bool crash) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n, SnapshotInterval, SmallWal) { Reliable = reliable };
        await c.OneAsync($"r{sim.Random.Next()}", n, true);
        var leader1 = await c.CheckOneLeaderAsync();
        for (var i = 0; i < 30; i++)
        {
            var victim = leader1 % n + 1;
            var sender = leader1;
            if (i % 3 == 1)
            {
                sender = leader1 % n + 1;
                victim = leader1;
            }
            if (disconnect)
            {
                c.Disconnect(victim);
                await c.OneAsync($"r{sim.Random.Next()}", n - 1, true);
            }
            if (crash)
            {
                c.Crash(victim);
                await c.OneAsync($"r{sim.Random.Next()}", n - 1, true);
            }
            // Enough entries that the victim falls behind the others' snapshots.
            var count = SnapshotInterval / 2 + sim.Random.Next(SnapshotInterval);
            for (var j = 0; j < count; j++) await c.StartAsync(sender, $"r{sim.Random.Next()}");
            if (!disconnect && !crash) await c.OneAsync($"r{sim.Random.Next()}", n, true);
            else await c.OneAsync($"r{sim.Random.Next()}", n - 1, true);
            var size = c.MaxPersistedBytes();
            if (size >= MaxPersistedBytes) throw new RaftScenarioException($"persisted state of {size} bytes: the log is not being trimmed");
            var raftState = c.MaxRaftStateBytes();
            if (raftState >= MaxRaftStateBytes) throw new RaftScenarioException($"Raft state of {raftState} bytes (limit {MaxRaftStateBytes}): the log is not being trimmed");
            if (disconnect)
            {
                // The victim catches up through InstallSnapshot.
                c.Connect(victim);
                await c.OneAsync($"r{sim.Random.Next()}", n, true);
                leader1 = await c.CheckOneLeaderAsync();
            }
            if (crash)
            {
                c.Restart(victim);
                await c.OneAsync($"r{sim.Random.Next()}", n, true);
                leader1 = await c.CheckOneLeaderAsync();
            }
        }
    });
}
