using Flotilla.Simulation;

namespace Flotilla.Cli.Commands;

/// <summary>The scenario suites <c>flotilla sim</c> can run. Add a component's suite with one line.</summary>
public static class SimSuites
{
    public static IReadOnlyList<ScenarioSuite> All { get; } =
    [
        SelfTestScenarios.Suite,
        Flotilla.Raft.Testing.RaftScenarios.Suite,
        Flotilla.Kv.Replicated.Testing.ReplicatedKvScenarios.Suite,
        Flotilla.ShardKv.Testing.ShardControllerScenarios.Suite,
        Flotilla.ShardKv.Testing.ShardKvScenarios.Suite,
    ];
}
