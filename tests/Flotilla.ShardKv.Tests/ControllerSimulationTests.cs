using Flotilla.ShardKv.Testing;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Tests;

/// <summary>The shard controller's simulated scenarios (src/Flotilla.ShardKv/Testing), several seeds each
/// (FLOTILLA_SEEDS=N for more, FLOTILLA_SEED=S to replay one; <c>flotilla sim shardctrl --seeds N</c> to soak).</summary>
public class ControllerSimulationTests
{
    [Fact]
    public void ReplicasAgreeOnEveryConfigurationThroughCrashesAndAnUnreliableNetwork() =>
        SeedRunner.ForSeeds(8, ShardControllerScenarios.AgreementThroughCrashesAndUnreliableNetwork);

    [Fact]
    public void SuiteIsNamedAndItsScenarioNamesAreUnique()
    {
        Assert.Equal("shardctrl", ShardControllerScenarios.Suite.Name);
        Assert.Equal(ShardControllerScenarios.Suite.Scenarios.Count, ShardControllerScenarios.Suite.Scenarios.Select(s => s.Name).Distinct().Count());
    }
}
