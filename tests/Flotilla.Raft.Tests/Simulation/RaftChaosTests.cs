using Flotilla.Raft.Testing;
using Flotilla.Simulation;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary>The chaos property test over many short seeded runs (FLOTILLA_SEEDS=N for more, FLOTILLA_SEED=S to
/// replay; <c>flotilla sim raft --scenario chaos --seeds N</c> is the soak).</summary>
public class RaftChaosTests
{
    [Fact]
    public void SafetyHoldsUnderRandomPartitionsCrashesLossReorderingAndSnapshots() =>
        SeedRunner.ForSeeds(1000, RaftScenarios.Chaos);

    [Fact]
    public void ChaosRunsActuallyCrashSnapshotAndCommit()
    {
        // Guards the harness itself: a run that never crashed or snapshotted would prove little.
        int crashes = 0, snapshots = 0;
        ulong committed = 0;
        foreach (var seed in Enumerable.Range(1, 20))
        {
            var cluster = RaftScenarios.Chaos(new Random(seed), RaftScenarios.ChaosStepsPerRun);
            crashes += cluster.Crashes;
            snapshots += cluster.SnapshotsTaken;
            committed += cluster.Nodes.Max(n => n.Core.CommitIndex);
        }
        Assert.True(crashes > 20, $"only {crashes} crashes in 20 runs");
        Assert.True(snapshots > 20, $"only {snapshots} snapshots in 20 runs");
        Assert.True(committed > 200, $"only {committed} entries committed in 20 runs");
    }

    [Fact]
    public void SafetyHoldsWhileMembersAreAddedRemovedAndReplacedUnderChaos() =>
        SeedRunner.ForSeeds(150, RaftScenarios.MembershipChaos);

    [Fact]
    public void MembershipChaosRunsReallyChangeTheMembership()
    {
        int changes = 0, joint = 0, snapshots = 0, crashes = 0, promotions = 0;
        foreach (var seed in Enumerable.Range(1, 20))
        {
            var cluster = RaftScenarios.MembershipChaos(new Random(seed), RaftScenarios.ChaosStepsPerRun);
            changes += cluster.MembershipChangesApplied;
            joint += cluster.JointConfigsEntered;
            snapshots += cluster.SnapshotsWithChangingMembership;
            crashes += cluster.Crashes;
            promotions += cluster.PromotionsProposed;
        }
        // Measured at seeds 1..20 (promotion lag 2): 103 changes, 22 joint configs, 15 promotions, 120 snapshots, 430 crashes.
        Assert.True(changes > 60, $"only {changes} membership changes applied in 20 runs");
        Assert.True(joint > 10, $"only {joint} joint configs entered in 20 runs");
        Assert.True(promotions > 8, $"only {promotions} caught-up learners promoted in 20 runs");
        Assert.True(snapshots > 20, $"only {snapshots} snapshots with a changed membership in 20 runs");
        Assert.True(crashes > 20, $"only {crashes} crashes in 20 runs");
    }

    [Fact]
    public void SafetyHoldsThroughTheDriverAndTheWalUnderCrashesPartitionsAndLoss() =>
        SeedRunner.ForSeeds(20, sim => RaftScenarios.NodeChaos(sim));

    /// <summary>The mutation check: with the Figure 8 rule broken (a leader commits an entry of an earlier term by
    /// counting replicas), the driver chaos run on 5 nodes must fail for some seed in a bounded range, with a safety
    /// message. Measured: seeds 1..48 pass, seed 49 fails ("leader completeness: n2 lacks committed entry 41@5 yet
    /// its log (42@6) would win the votes of 3 of 5 voters"); the range starts at 41 to keep the test short.</summary>
    [Fact]
    public void TheDriverChaosRunCatchesABrokenFigure8CommitRule()
    {
        foreach (var seed in Enumerable.Range(41, 20))
        {
            var sim = new Simulator((ulong)seed);
            try
            {
                RaftScenarios.NodeChaos(sim, 5, mutationCommitEarlierTerms: true);
            }
            catch (RaftScenarioException e)
            {
                Assert.Matches("committed entries differ|leader completeness|apply error|state machine safety", e.Message);
                return;
            }
        }
        Assert.Fail("seeds 41..60 of node-chaos did not notice leaders committing entries of earlier terms by counting");
    }
}
