using Flotilla.ShardKv.Testing;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Tests;

/// <summary>The sharded KV's simulated scenarios (src/Flotilla.ShardKv/Testing/ShardKvScenarios), a few seeds each
/// (FLOTILLA_SEEDS=N for more, FLOTILLA_SEED=S to replay one; <c>flotilla sim shardkv --seeds N</c> to soak).</summary>
public class ShardKvSimulationTests
{
    [Fact] public void AGroupDownMakesOnlyItsOwnShardsUnavailable() => SeedRunner.ForSeeds(2, ShardKvScenarios.StaticShards);
    [Fact] public void JoinsAndLeavesUnderLoadLoseNothingAndTheLastGroupCannotLeave() => SeedRunner.ForSeeds(2, ShardKvScenarios.JoinLeave);
    [Fact] public void GroupsRestartFromSnapshotsTakenMidMove() => SeedRunner.ForSeeds(2, ShardKvScenarios.Snapshots);
    [Fact] public void ReplicasAndGroupsThatMissedConfigurationsCatchUpInOrder() => SeedRunner.ForSeeds(2, ShardKvScenarios.MissingChanges);
    [Fact] public void Concurrent1QuickJoinsAndLeaves() => SeedRunner.ForSeeds(2, ShardKvScenarios.Concurrent1);
    [Fact] public void Concurrent2GroupsCrashBetweenChanges() => SeedRunner.ForSeeds(2, ShardKvScenarios.Concurrent2);
    [Fact] public void Concurrent3EveryServerRestartsWithSnapshots() => SeedRunner.ForSeeds(2, ShardKvScenarios.Concurrent3);
    [Fact] public void Unreliable1() => SeedRunner.ForSeeds(2, ShardKvScenarios.Unreliable1);
    [Fact] public void Unreliable2() => SeedRunner.ForSeeds(2, ShardKvScenarios.Unreliable2);
    [Fact] public void Unreliable3() => SeedRunner.ForSeeds(2, ShardKvScenarios.Unreliable3);
    [Fact] public void ChallengeDeletionFreesTheSpaceOfShardsHandedOver() => SeedRunner.ForSeeds(2, ShardKvScenarios.ChallengeDeletion);
    [Fact] public void ChallengeUnaffectedShardsKeepServingDuringAMove() => SeedRunner.ForSeeds(2, ShardKvScenarios.ChallengeUnaffected);
    [Fact] public void ChallengePartialMigrationServesEachShardOnceInstalled() => SeedRunner.ForSeeds(2, ShardKvScenarios.ChallengePartial);
    [Fact] public void AControllerLeaderCrashingMidChangeLeavesNoHalfAppliedChange() => SeedRunner.ForSeeds(2, ShardKvScenarios.ControllerCrash);
    [Fact] public void LargeShardsMoveInPagesUnderLeaderCrashesPartitionsAndLostMessages() => SeedRunner.ForSeeds(2, ShardKvScenarios.LargeShardMove);
    [Fact] public void ControllerBasicJoinLeaveMoveAndQueriesOfEveryConfiguration() => SeedRunner.ForSeeds(2, ShardControllerScenarios.Basic);
    [Fact] public void ControllerMultiGroupJoinsAndLeavesInOneCommand() => SeedRunner.ForSeeds(2, ShardControllerScenarios.Multi);
    [Fact] public void ControllerJoinsAndLeavesMoveTheFewestShards() => SeedRunner.ForSeeds(2, ShardControllerScenarios.MinimalMoves);
    [Fact] public void ControllerReplicasUnderConcurrentClientsAndCrashesEndWithOneBalancedHistory() => SeedRunner.ForSeeds(2, ShardControllerScenarios.Determinism);

    [Fact]
    public void SuiteIsNamedAndItsScenarioNamesAreUnique()
    {
        Assert.Equal("shardkv", ShardKvScenarios.Suite.Name);
        Assert.Equal(ShardKvScenarios.Suite.Scenarios.Count, ShardKvScenarios.Suite.Scenarios.Select(s => s.Name).Distinct().Count());
    }
}
