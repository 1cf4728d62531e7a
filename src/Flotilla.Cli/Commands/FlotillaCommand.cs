using System.CommandLine;
using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Commands;

/// <summary>The root of the <c>flotilla</c> command tree. Each component contributes one command group in its
/// own file under Commands/; add it to <see cref="Build"/>.</summary>
public static class FlotillaCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Flotilla: Raft, a replicated key/value store, and MapReduce, for real and in simulation.");
        root.Options.Add(CliOptions.Verbose);
        root.Subcommands.Add(VersionCommand.Create());
        foreach (var group in ExtraCommands) root.Subcommands.Add(group());
        return root;
    }

    /// <summary>Command groups contributed by components (kept in a list so adding one is a one-line change).</summary>
    private static readonly List<Func<Command>> ExtraCommands =
    [
        CheckCommand.Create,
        SimCommand.Create,
        ServerCommand.Create,
        ClusterCommand.Create,
        DemoCommand.Create,
        MapReduceCommand.Create,
        KvCommand.Create,
        BenchCommand.Create,
        ShardCommand.Create,
        NemesisCommand.Create,
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var root = Build();
        var parse = root.Parse(args);
        var config = new InvocationConfiguration
        {
            Output = stdout ?? Console.Out,
            Error = stderr ?? Console.Error,
            EnableDefaultExceptionHandler = false,
            // After Ctrl-C, give commands time to stop their processes and flush their logs cleanly.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
        };
        if (parse.Errors.Count > 0 && !parse.Tokens.Any(t => t.Value is "--help" or "-h" or "-?"))
        {
            // One line however many problems the parser found ("Required command was not provided" comes with an
            // unknown command, for one), so scripts and people see the same single error line as for every other error.
            var problems = string.Join("; ", parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Trim().TrimEnd('.')).Distinct());
            config.Error.WriteLine($"flotilla: error: {problems} (see 'flotilla --help')");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(config);
        }
        catch (Exception e)
        {
            return CliErrors.Report(e, parse.GetValue(CliOptions.Verbose), config.Error);
        }
    }
}
