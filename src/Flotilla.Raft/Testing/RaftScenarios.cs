using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

/// <summary>
/// The simulated Raft scenarios (after MIT 6.5840 labs 3A–3D) as a suite: xunit tests run each over a few seeds,
/// <c>flotilla sim raft --seeds N</c> soaks them. Each scenario throws when Raft misbehaves.
/// </summary>
public static partial class RaftScenarios
{
    public static ScenarioSuite Suite { get; } = new("raft", "Raft: elections, agreement, persistence, Figure 8, churn, snapshots (6.5840 3A-3D).",
    [
        new Scenario("initial-election", InitialElection),
        new Scenario("re-election", ReElection),
        new Scenario("many-elections", ManyElections),
        new Scenario("basic-agree", BasicAgree),
        new Scenario("follower-failure", FollowerFailure),
        new Scenario("leader-failure", LeaderFailure),
        new Scenario("fail-agree", FailAgree),
        new Scenario("fail-no-agree", FailNoAgree),
        new Scenario("concurrent-starts", ConcurrentStarts),
        new Scenario("rejoin", Rejoin),
        new Scenario("backup", Backup),
        new Scenario("count", Count),
        new Scenario("rpc-bytes", RpcBytes),
        new Scenario("persist1", Persist1),
        new Scenario("persist2", Persist2),
        new Scenario("persist3", Persist3),
        new Scenario("lost-wal-tail", LostWalTail),
        new Scenario("figure8", Figure8),
        new Scenario("unreliable-agree", UnreliableAgree),
        new Scenario("figure8-unreliable", Figure8Unreliable),
        new Scenario("reliable-churn", ReliableChurn),
        new Scenario("unreliable-churn", UnreliableChurn),
        new Scenario("snapshot-basic", SnapshotBasic),
        new Scenario("snapshot-install", SnapshotInstall),
        new Scenario("snapshot-install-unreliable", SnapshotInstallUnreliable),
        new Scenario("snapshot-install-crash", SnapshotInstallCrash),
        new Scenario("snapshot-install-unreliable-crash", SnapshotInstallUnreliableCrash),
        new Scenario("snapshot-all-crash", SnapshotAllCrash),
        new Scenario("snapshot-init", SnapshotInit),
        new Scenario("figure8-unreliable-lab", Figure8UnreliableLab),
        new Scenario("read-index", ReadIndex),
        new Scenario("leadership-transfer", LeadershipTransfer),
        new Scenario("chaos", Chaos),
        new Scenario("membership-chaos", MembershipChaos),
        new Scenario("node-chaos", NodeChaos),
    ]);
}
