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

    /// <summary>The chaos run with membership changes among the events: 5 nodes, bootstrap voters 1..3, the others
    /// joining as learners, promoted, removed, replaced (simple and joint changes, auto and explicit leave), all under
    /// the same faults and the same safety checks, plus: every node applies each change to the same membership.</summary>
    public static void MembershipChaos(Simulator sim) => MembershipChaos(sim.Random, ChaosStepsPerRun);

    public static ChaosCluster MembershipChaos(Random random, int steps)
    {
        var cluster = new ChaosCluster(random, 5, bootstrapVoters: 3);
        cluster.Run(steps);
        cluster.HealAndCommit(maxRounds: 400);
        return cluster;
    }

    public static ChaosCluster Chaos(Random random, int steps)
    {
        var cluster = new ChaosCluster(random, random.Next(2) == 0 ? 3 : 5);
        cluster.Run(steps);
        cluster.HealAndCommit(maxRounds: 400);
        return cluster;
    }
}
