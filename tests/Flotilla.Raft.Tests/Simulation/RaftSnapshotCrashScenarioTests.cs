using Flotilla.Raft.Testing;
using Flotilla.Simulation;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary>6.5840 3D's whole-cluster crash scenarios over several seeds (FLOTILLA_SEEDS=N for more), and the soak's
/// lab-count Figure 8 (run by <c>flotilla sim raft</c>, not here).</summary>
public class RaftSnapshotCrashScenarioTests
{
    [Fact] public void SnapshotAllCrash() => SeedRunner.ForSeeds(3, RaftScenarios.SnapshotAllCrash);
    [Fact] public void SnapshotInit() => SeedRunner.ForSeeds(3, RaftScenarios.SnapshotInit);

    [Fact]
    public void TheSoakRunsFigure8UnreliableAtTheLabsThousandIterations()
    {
        Assert.Equal(1000, RaftScenarios.Figure8UnreliableLabIterations);
        Assert.Contains(RaftScenarios.Suite.Scenarios, s => s.Name == "figure8-unreliable-lab");
        Assert.Contains(RaftScenarios.Suite.Scenarios, s => s.Name == "snapshot-all-crash");
        Assert.Contains(RaftScenarios.Suite.Scenarios, s => s.Name == "snapshot-init");
    }
}
