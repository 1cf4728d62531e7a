using Flotilla.MapReduce.Apps.Testing;

namespace Flotilla.MapReduce.Apps;

/// <summary>The apps available by name to <c>--app</c>.</summary>
public static class BuiltInApps
{
    private static readonly Dictionary<string, Func<IMapReduceApp>> Factories = new(StringComparer.Ordinal)
    {
        ["wc"] = () => new WordCountApp(),
        ["indexer"] = () => new IndexerApp(),
        ["grep"] = () => new GrepApp(),
        ["sort"] = () => new SortApp(),
        ["crash"] = () => new CrashApp(),
        ["nocrash"] = () => new NoCrashApp(),
        ["mtiming"] = () => new MapTimingApp(),
        ["rtiming"] = () => new ReduceTimingApp(),
        ["jobcount"] = () => new JobCountApp(),
        ["early_exit"] = () => new EarlyExitApp(),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static IMapReduceApp? TryCreate(string name) => Factories.TryGetValue(name, out var factory) ? factory() : null;
}
