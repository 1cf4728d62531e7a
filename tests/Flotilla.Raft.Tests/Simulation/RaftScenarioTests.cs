using Flotilla.Raft.Testing;
using Flotilla.Simulation;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary>
/// The 6.5840-style scenarios over a few seeds each (FLOTILLA_SEEDS=N for more, FLOTILLA_SEED=S to replay one).
/// The heavy ones run fewer seeds here; <c>flotilla sim raft --seeds N</c> is the soak.
/// </summary>
public class RaftScenarioTests
{
    [Fact]
    public void SuiteListsEveryScenarioOnce() =>
        Assert.Equal(RaftScenarios.Suite.Scenarios.Count, RaftScenarios.Suite.Scenarios.Select(s => s.Name).Distinct().Count());

    [Fact] public void InitialElection() => SeedRunner.ForSeeds(3, RaftScenarios.InitialElection);
    [Fact] public void ReElection() => SeedRunner.ForSeeds(3, RaftScenarios.ReElection);
    [Fact] public void ManyElections() => SeedRunner.ForSeeds(2, RaftScenarios.ManyElections);
    [Fact] public void BasicAgree() => SeedRunner.ForSeeds(3, RaftScenarios.BasicAgree);
    [Fact] public void FollowerFailure() => SeedRunner.ForSeeds(2, RaftScenarios.FollowerFailure);
    [Fact] public void LeaderFailure() => SeedRunner.ForSeeds(2, RaftScenarios.LeaderFailure);
    [Fact] public void FailAgree() => SeedRunner.ForSeeds(2, RaftScenarios.FailAgree);
    [Fact] public void FailNoAgree() => SeedRunner.ForSeeds(2, RaftScenarios.FailNoAgree);
    [Fact] public void ConcurrentStarts() => SeedRunner.ForSeeds(2, RaftScenarios.ConcurrentStarts);
    [Fact] public void Rejoin() => SeedRunner.ForSeeds(2, RaftScenarios.Rejoin);
    [Fact] public void Backup() => SeedRunner.ForSeeds(2, RaftScenarios.Backup);
    [Fact] public void Count() => SeedRunner.ForSeeds(3, RaftScenarios.Count);
    [Fact] public void RpcBytes() => SeedRunner.ForSeeds(3, RaftScenarios.RpcBytes);
    [Fact] public void Persist1() => SeedRunner.ForSeeds(2, RaftScenarios.Persist1);
    [Fact] public void Persist2() => SeedRunner.ForSeeds(2, RaftScenarios.Persist2);
    [Fact] public void Persist3() => SeedRunner.ForSeeds(2, RaftScenarios.Persist3);
    [Fact] public void MembersThatLostTheirWalTailRefuseToStartAndNoTermGetsTwoLeaders() => SeedRunner.ForSeeds(4, RaftScenarios.LostWalTail);
    [Fact] public void Figure8() => SeedRunner.ForSeeds(2, RaftScenarios.Figure8);
    [Fact] public void UnreliableAgree() => SeedRunner.ForSeeds(2, RaftScenarios.UnreliableAgree);
    [Fact] public void Figure8Unreliable() => SeedRunner.ForSeeds(1, RaftScenarios.Figure8Unreliable);
    [Fact] public void ReliableChurn() => SeedRunner.ForSeeds(2, RaftScenarios.ReliableChurn);
    [Fact] public void UnreliableChurn() => SeedRunner.ForSeeds(1, RaftScenarios.UnreliableChurn);
    [Fact] public void SnapshotBasic() => SeedRunner.ForSeeds(2, RaftScenarios.SnapshotBasic);
    [Fact] public void SnapshotInstall() => SeedRunner.ForSeeds(2, RaftScenarios.SnapshotInstall);
    [Fact] public void SnapshotInstallUnreliable() => SeedRunner.ForSeeds(1, RaftScenarios.SnapshotInstallUnreliable);
    [Fact] public void SnapshotInstallCrash() => SeedRunner.ForSeeds(2, RaftScenarios.SnapshotInstallCrash);
    [Fact] public void ReadIndex() => SeedRunner.ForSeeds(3, RaftScenarios.ReadIndex);
    [Fact] public void LeadershipTransfer() => SeedRunner.ForSeeds(3, RaftScenarios.LeadershipTransfer);
    [Fact] public void SnapshotInstallUnreliableCrash() => SeedRunner.ForSeeds(1, RaftScenarios.SnapshotInstallUnreliableCrash);
}
