using System.Globalization;
using System.Runtime.CompilerServices;

namespace Flotilla.Simulation;

/// <summary>
/// Runs a simulated scenario over many seeds and, when one fails, says which seed and how to replay it.
/// <para>Environment: <c>FLOTILLA_SEED=S</c> runs only seed S (replay); <c>FLOTILLA_SEEDS=N</c> runs N seeds instead of
/// the test's default; <c>FLOTILLA_SEED_START=S</c> starts from seed S.</para>
/// </summary>
public static class SeedRunner
{
    /// <summary>Runs <paramref name="scenario"/> for each seed; throws <see cref="SimulationFailedException"/> at the first failure.</summary>
    public static void ForSeeds(int count, Action<ulong> scenario, [CallerMemberName] string testName = "", ulong start = 1)
    {
        foreach (var seed in Seeds(count, start))
        {
            try
            {
                scenario(seed);
            }
            catch (Exception e)
            {
                throw new SimulationFailedException(seed, testName, e);
            }
        }
    }

    /// <summary>Runs a scenario that builds its own <see cref="Simulator"/> and attaches its log to a failure.</summary>
    public static void ForSeeds(int count, Action<Simulator> scenario, SimulationOptions? options = null,
        [CallerMemberName] string testName = "", ulong start = 1)
    {
        foreach (var seed in Seeds(count, start))
        {
            var sim = new Simulator(seed, options);
            try
            {
                scenario(sim);
            }
            catch (Exception e)
            {
                throw new SimulationFailedException(seed, testName, e, sim.RecentLog(), sim.Now);
            }
        }
    }

    /// <summary>The seeds to run, honouring FLOTILLA_SEED / FLOTILLA_SEEDS / FLOTILLA_SEED_START.</summary>
    public static IEnumerable<ulong> Seeds(int count, ulong start = 1)
    {
        if (TryReadEnv("FLOTILLA_SEED", out var only))
        {
            yield return only;
            yield break;
        }
        if (TryReadEnv("FLOTILLA_SEEDS", out var n)) count = (int)n;
        if (TryReadEnv("FLOTILLA_SEED_START", out var s)) start = s;
        for (var i = 0UL; i < (ulong)count; i++) yield return start + i;
    }

    private static bool TryReadEnv(string name, out ulong value)
    {
        value = 0;
        var text = Environment.GetEnvironmentVariable(name);
        return !string.IsNullOrWhiteSpace(text) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>A scenario failed for one seed. The message names the seed and the command that replays it.</summary>
public sealed class SimulationFailedException : Exception
{
    public SimulationFailedException(ulong seed, string testName, Exception inner, IReadOnlyList<string>? log = null, TimeSpan? at = null)
        : base(Describe(seed, testName, inner, log, at), inner)
    {
        Seed = seed;
        TestName = testName;
    }

    public ulong Seed { get; }
    public string TestName { get; }

    /// <summary>The shell command that replays this seed alone.</summary>
    public static string ReplayCommand(ulong seed, string testName) =>
        $"FLOTILLA_SEED={seed} dotnet test --filter \"FullyQualifiedName~{testName}\"";

    private static string Describe(ulong seed, string testName, Exception inner, IReadOnlyList<string>? log, TimeSpan? at)
    {
        var text = $"seed {seed} failed{(at is { } t ? $" at {t.TotalSeconds:0.000} s virtual time" : "")}: {inner.GetType().Name}: {inner.Message}\n" +
                   $"  replay: {ReplayCommand(seed, testName)}";
        if (log is { Count: > 0 }) text += "\n  last simulation log lines:\n    " + string.Join("\n    ", log.TakeLast(40));
        return text;
    }
}
