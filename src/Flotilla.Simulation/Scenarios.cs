namespace Flotilla.Simulation;

/// <summary>
/// One named simulated scenario: a function of a fresh <see cref="Simulator"/> that throws when the system under
/// test misbehaves. Tests run scenarios over a handful of seeds; <c>flotilla sim SUITE --seeds N</c> soaks them.
/// </summary>
public sealed record Scenario(string Name, Action<Simulator> Run, SimulationOptions? Options = null);

/// <summary>A named group of scenarios (e.g. "raft"), as the CLI lists and runs them.</summary>
public sealed record ScenarioSuite(string Name, string Description, IReadOnlyList<Scenario> Scenarios)
{
    public Scenario Find(string name) =>
        Scenarios.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"suite '{Name}' has no scenario '{name}' (try: {string.Join(", ", Scenarios.Select(s => s.Name))})");
}

/// <summary>The outcome of one scenario under one seed.</summary>
public sealed record ScenarioResult(string Suite, string Scenario, ulong Seed, bool Passed, string? Failure, TimeSpan VirtualTime, TimeSpan WallTime, ulong TraceHash)
{
    /// <summary>The command that replays exactly this run.</summary>
    public string ReplayCommand => $"flotilla sim {Suite} --scenario {Scenario} --seed {Seed}";
}

public static class ScenarioRunner
{
    /// <summary>Runs one scenario under one seed, capturing failure and the log tail instead of throwing.</summary>
    public static ScenarioResult RunOne(ScenarioSuite suite, Scenario scenario, ulong seed)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var sim = new Simulator(seed, scenario.Options);
        try
        {
            scenario.Run(sim);
            return new ScenarioResult(suite.Name, scenario.Name, seed, true, null, sim.Now, wall.Elapsed, sim.TraceHash);
        }
        catch (Exception e)
        {
            var log = sim.RecentLog();
            var failure = $"{e.GetType().Name}: {e.Message}" + (log.Count > 0 ? "\n    " + string.Join("\n    ", log.TakeLast(20)) : "");
            return new ScenarioResult(suite.Name, scenario.Name, seed, false, failure, sim.Now, wall.Elapsed, sim.TraceHash);
        }
    }
}
