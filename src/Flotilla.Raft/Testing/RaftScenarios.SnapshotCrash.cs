using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// 6.5840 lab 3D, the whole-cluster crashes: every server restarts from its own snapshot and WAL.
public static partial class RaftScenarios
{
    /// <summary>
    /// SnapshotAllCrash: five times, commit enough entries that every server snapshots, then crash and restart all
    /// of them at once. The cluster must elect a leader from the recovered state and commit past the last index it
    /// committed before the crash (the applier checks each restarted server begins at its snapshot, in order).
    /// </summary>
    public static void SnapshotAllCrash(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n, SnapshotInterval, SmallWal);
        await c.OneAsync($"r{sim.Random.Next()}", n, true);
        for (var iteration = 0; iteration < 5; iteration++)
        {
            var count = SnapshotInterval / 2 + sim.Random.Next(SnapshotInterval);
            for (var j = 0; j < count; j++) await c.OneAsync($"r{sim.Random.Next()}", n, true);
            var before = await c.OneAsync($"r{sim.Random.Next()}", n, true);
            // The first round may stop short of the first snapshot (as in the lab); from then on every server has one.
            if (before >= SnapshotInterval) CheckEverySnapshotted(c);
            foreach (var i in c.All) c.Crash(i);
            foreach (var i in c.All) c.Restart(i);
            var after = await c.OneAsync($"r{sim.Random.Next()}", n, true);
            if (after < before + 1) throw new RaftScenarioException($"index decreased from {before} to {after} across a crash of every server");
            c.CheckApplyErrors();
        }
    });

    /// <summary>
    /// SnapshotInit: after a snapshot, crash and restart every server twice in a row, committing once in between.
    /// A server must load its snapshot at initialisation (and hand it to the service before any later entry), or
    /// the second restart finds it without the state the first one recovered.
    /// </summary>
    public static void SnapshotInit(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n, SnapshotInterval, SmallWal);
        await c.OneAsync($"r{sim.Random.Next()}", n, true);
        // Enough entries for a snapshot on every server.
        for (var j = 0; j < SnapshotInterval + 1; j++) await c.OneAsync($"r{sim.Random.Next()}", n, true);
        CheckEverySnapshotted(c);
        for (var restart = 0; restart < 2; restart++)
        {
            foreach (var i in c.All) c.Crash(i);
            foreach (var i in c.All) c.Restart(i);
            // One more entry, applied by every server on top of the snapshot it restored.
            await c.OneAsync($"r{sim.Random.Next()}", n, true);
            c.CheckApplyErrors();
            foreach (var i in c.All)
                if (c.NodeOf(i) is { Core.SnapshotIndex: 0 }) throw new RaftScenarioException($"server {i} restarted without its snapshot");
        }
    });

    private static void CheckEverySnapshotted(RaftCluster c)
    {
        foreach (var i in c.All)
            if (c.NodeOf(i) is not { Core.SnapshotIndex: > 0 }) throw new RaftScenarioException($"server {i} has not snapshotted: the scenario would not test snapshot recovery");
    }
}
