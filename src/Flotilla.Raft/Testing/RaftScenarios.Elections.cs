using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// 6.5840 lab 3A: leader election.
public static partial class RaftScenarios
{
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The bound: every scenario finishes within two minutes of virtual time.</summary>
    private const int ScenarioVirtualSecondsMax = 120;

    private static void Run(Simulator sim, Func<Task> body, int limitSeconds = ScenarioVirtualSecondsMax) =>
        sim.RunTest(body, TimeSpan.FromSeconds(limitSeconds));

    public static void InitialElection(Simulator sim) => Run(sim, async () =>
    {
        var c = new RaftCluster(sim, 3);
        await c.CheckOneLeaderAsync();
        await c.SleepMs(50);
        var term1 = c.CheckTerms();
        if (term1 < 1) throw new RaftScenarioException($"term is {term1}, but should be at least 1");
        // With no failures, the leader and term stay put.
        await c.Sleep(2 * ElectionTimeout);
        var term2 = c.CheckTerms();
        if (term1 != term2) throw new RaftScenarioException($"term changed from {term1} to {term2} with no failures");
        await c.CheckOneLeaderAsync();
        c.CheckApplyErrors();
    });

    public static void ReElection(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        var leader1 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader1);
        await c.CheckOneLeaderAsync();
        // The old leader rejoining must not disturb the new one.
        c.Connect(leader1);
        var leader2 = await c.CheckOneLeaderAsync();
        // No quorum: no leader.
        c.Disconnect(leader2);
        c.Disconnect(leader2 % n + 1);
        await c.Sleep(2 * ElectionTimeout);
        c.CheckNoLeader();
        c.Connect(leader2 % n + 1);
        await c.CheckOneLeaderAsync();
        c.Connect(leader2);
        await c.CheckOneLeaderAsync();
    });

    public static void ManyElections(Simulator sim) => Run(sim, async () =>
    {
        const int n = 7;
        var c = new RaftCluster(sim, n);
        await c.CheckOneLeaderAsync();
        for (var iteration = 0; iteration < 10; iteration++)
        {
            var victims = Enumerable.Range(0, 3).Select(_ => sim.Random.Next(n) + 1).Distinct().ToList();
            foreach (var v in victims) c.Disconnect(v);
            // Either the current leader is still alive, or the remaining four elect a new one.
            await c.CheckOneLeaderAsync();
            foreach (var v in victims) c.Connect(v);
        }
        await c.CheckOneLeaderAsync();
    });
}
