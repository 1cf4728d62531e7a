using Flotilla.Kv.Replicated.Testing;
using Flotilla.Simulation;
using Xunit.Abstractions;

namespace Flotilla.Kv.Tests.Replicated;

/// <summary>
/// The kvraft (6.5840 4A/4B) scenarios over a few seeds each; every history is checked for linearizability.
/// FLOTILLA_SEEDS=N for more seeds, FLOTILLA_SEED=S to replay one; <c>flotilla sim kv --seeds N</c> is the soak.
/// </summary>
public class ReplicatedKvScenarioTests(ITestOutputHelper output)
{
    [Fact] public void Basic() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.Basic);
    [Fact] public void ConcurrentClients() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.Concurrent);
    [Fact] public void ConcurrentClientsEachOnItsOwnKey() => SeedRunner.ForSeeds(1, ReplicatedKvScenarios.ConcurrentOwnKeys);
    [Fact] public void UnreliableNetwork() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.Unreliable);
    [Fact] public void LeaderInMinorityPartitionBlocksItsClientsUntilHealed() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.OnePartition);
    [Fact] public void ManyPartitionsOneClient() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.ManyPartitionsOneClient);
    [Fact] public void ManyPartitionsManyClients() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.ManyPartitionsManyClients);
    [Fact] public void PersistenceOneClientAllServersCrashBetweenRounds() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.PersistOneClient);
    [Fact] public void PersistenceConcurrentClientsAllServersCrashBetweenRounds() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.PersistConcurrent);
    [Fact] public void PersistenceConcurrentClientsUnreliableNetwork() => SeedRunner.ForSeeds(2, ReplicatedKvScenarios.PersistConcurrentUnreliable);
    [Fact] public void PersistencePartitions() => SeedRunner.ForSeeds(1, ReplicatedKvScenarios.PersistPartition);
    [Fact] public void PersistencePartitionsUnreliableNetwork() => SeedRunner.ForSeeds(2, ReplicatedKvScenarios.PersistPartitionUnreliable);
    [Fact] public void CrashPartitionUnreliableSevenServersFifteenClientsRandomKeys() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.PersistPartitionUnreliableRandomKeys);
    [Fact] public void LaggingServerCatchesUpThroughInstallSnapshot() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.SnapshotRpc);
    [Fact] public void PersistedStateStaysBoundedAndSmallStateGivesSmallSnapshot() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.SnapshotSize);
    [Fact] public void SnapshotRecoverAfterCrashes() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.SnapshotRecover);
    [Fact] public void SnapshotRecoverManyClients() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.SnapshotRecoverManyClients);
    [Fact] public void SnapshotUnreliable() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.SnapshotUnreliable);
    [Fact] public void SnapshotUnreliableRecover() => SeedRunner.ForSeeds(2, ReplicatedKvScenarios.SnapshotUnreliableRecover);
    [Fact] public void SnapshotUnreliableRecoverPartitionsSevenServersFifteenClients() => SeedRunner.ForSeeds(2, ReplicatedKvScenarios.SnapshotUnreliableRecoverPartitionsLinearizable);
    [Fact] public void SnapshotUnreliableRecoverConcurrentPartitions() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.SnapshotUnreliableRecoverPartitions);

    [Fact]
    public void ThousandSequentialPutsAverageUnderAThirdOfAHeartbeat() => SeedRunner.ForSeeds(1, sim =>
    {
        var mean = ReplicatedKvScenarios.MeasureSequentialPuts(sim, 1000);
        output.WriteLine($"seed {sim.Seed}: mean put latency {mean.TotalMilliseconds:0.000} ms (virtual)");
    });

    [Fact]
    public void ThousandSequentialPutsWithSnapshotsAverageUnderAThirdOfAHeartbeat() => SeedRunner.ForSeeds(1, sim =>
    {
        var mean = ReplicatedKvScenarios.MeasureSequentialPuts(sim, 1000, ReplicatedKvScenarios.SnapshotThresholdBytes);
        output.WriteLine($"seed {sim.Seed}: mean put latency with snapshots {mean.TotalMilliseconds:0.000} ms (virtual)");
    });

    [Fact]
    public void SuiteIsNamedKvAndListsEveryScenarioOnce()
    {
        Assert.Equal("kv", ReplicatedKvScenarios.Suite.Name);
        Assert.Equal(ReplicatedKvScenarios.Suite.Scenarios.Count, ReplicatedKvScenarios.Suite.Scenarios.Select(s => s.Name).Distinct().Count());
        Assert.Contains(ReplicatedKvScenarios.Suite.Scenarios, s => s.Name == "speed");
        Assert.Contains(ReplicatedKvScenarios.Suite.Scenarios, s => s.Name == "speed-snapshots");
    }
}
