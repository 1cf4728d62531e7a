using Flotilla.Raft.Testing.Chaos;
using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// Beyond 6.5840: a randomized property test of Raft's safety invariants.
public static partial class RaftScenarios
{
    /// <summary>Random partitions, crashes and restarts, loss, duplication and unbounded reordering, proposals and
    /// snapshots on 3 or 5 cores; election safety, log matching, leader completeness and state machine safety are
    /// checked after every event; then the network heals and the cluster must commit again.</summary>
    public static void Chaos(Simulator sim) => Chaos(sim.Random, ChaosStepsPerRun);

    public const int ChaosStepsPerRun = 5_000;

    public static ChaosCluster Chaos(Random random, int steps)
    {
        var cluster = new ChaosCluster(random, random.Next(2) == 0 ? 3 : 5);
        cluster.Run(steps);
        cluster.HealAndCommit(maxRounds: 400);
        return cluster;
    }
}
