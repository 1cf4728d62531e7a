using System.Collections.Concurrent;
using System.CommandLine;
using Flotilla.Cli.Infrastructure;
using Flotilla.Simulation;
using Spectre.Console;

namespace Flotilla.Cli.Commands;

/// <summary>
/// <c>flotilla sim SUITE</c>: the soak mode. Runs a suite's simulated scenarios over many seeds, prints each
/// failing seed with the command that replays it, and ends with the line "N passed, M failed".
/// </summary>
public static class SimCommand
{
    /// <summary>Every scenario suite the CLI knows. Components add theirs here.</summary>
    public static IReadOnlyList<ScenarioSuite> Suites => SimSuites.All;

    public static Command Create()
    {
        var suite = new Argument<string?>("suite") { Description = "The suite to run (see --list).", Arity = ArgumentArity.ZeroOrOne };
        var seeds = new Option<int>("--seeds") { Description = "How many seeds to run per scenario.", DefaultValueFactory = _ => 10 };
        var start = new Option<ulong>("--start") { Description = "The first seed.", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong?>("--seed") { Description = "Run exactly this seed (replay)." };
        var scenario = new Option<string?>("--scenario") { Description = "Run only this scenario of the suite." };
        var parallel = new Option<int>("--parallel") { Description = "Seeds run at once (each simulation is single-threaded).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var list = new Option<bool>("--list") { Description = "List suites and scenarios, then exit." };
        var command = new Command("sim", "Run simulated scenarios over many seeds (soak mode); failing seeds are printed with a replay command.")
        {
            suite, seeds, start, seed, scenario, parallel, list,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(list) || parse.GetValue(suite) is null)
            {
                foreach (var s in Suites)
                    output.WriteLine($"{s.Name}: {s.Description}\n    {string.Join(", ", s.Scenarios.Select(x => x.Name))}");
                return ExitCodes.Ok;
            }
            var chosen = Suites.FirstOrDefault(s => string.Equals(s.Name, parse.GetValue(suite), StringComparison.OrdinalIgnoreCase))
                         ?? throw new CliException($"no suite '{parse.GetValue(suite)}' (try: {string.Join(", ", Suites.Select(s => s.Name))})", ExitCodes.Usage);
            var scenarios = parse.GetValue(scenario) is { } only ? [Find(chosen, only)] : chosen.Scenarios;
            var count = parse.GetValue(seeds);
            if (count < 1) throw new CliException("--seeds must be at least 1", ExitCodes.Usage);
            var seedList = parse.GetValue(seed) is { } exact
                ? [exact]
                : Enumerable.Range(0, count).Select(i => parse.GetValue(start) + (ulong)i).ToList();
            var runs = scenarios.SelectMany(s => seedList.Select(x => (Scenario: s, Seed: x))).ToList();
            return Run(chosen, runs, Math.Max(1, parse.GetValue(parallel)), output);
        });
        return command;
    }

    private static Scenario Find(ScenarioSuite suite, string name)
    {
        try { return suite.Find(name); }
        catch (KeyNotFoundException e) { throw new CliException(e.Message, ExitCodes.Usage); }
    }

    private static int Run(ScenarioSuite suite, List<(Scenario Scenario, ulong Seed)> runs, int parallel, TextWriter output)
    {
        var failures = new ConcurrentBag<ScenarioResult>();
        var passed = 0;
        long virtualTicks = 0;
        var wall = System.Diagnostics.Stopwatch.StartNew();
        void RunAll(Action? onEach)
        {
            Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = parallel }, run =>
            {
                // Each simulation is created and run on this one thread: the simulator is single-threaded by design.
                var result = ScenarioRunner.RunOne(suite, run.Scenario, run.Seed);
                Interlocked.Add(ref virtualTicks, result.VirtualTime.Ticks);
                if (result.Passed) Interlocked.Increment(ref passed);
                else
                {
                    failures.Add(result);
                    lock (output) output.WriteLine($"FAIL {suite.Name}/{result.Scenario} seed {result.Seed}: {result.Failure}\n  replay: {result.ReplayCommand}");
                }
                onEach?.Invoke();
            });
        }

        if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress().Start(ctx =>
            {
                var task = ctx.AddTask($"{suite.Name}: {runs.Count} runs", maxValue: runs.Count);
                RunAll(() => task.Increment(1));
            });
        }
        else
        {
            RunAll(null);
        }
        var simulated = TimeSpan.FromTicks(virtualTicks);
        output.WriteLine($"simulated {simulated.TotalSeconds:0.#} s of virtual time in {wall.Elapsed.TotalSeconds:0.##} s of wall time " +
                         $"({simulated / wall.Elapsed:0}x real time, {parallel} at once)");
        output.WriteLine($"{passed} passed, {failures.Count} failed");
        return failures.IsEmpty ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
