using System.CommandLine;

namespace Flotilla.Cli.Infrastructure;

/// <summary>Options shared by every command.</summary>
public static class CliOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print diagnostic detail, including stack traces on errors.",
        Recursive = true,
    };
}
