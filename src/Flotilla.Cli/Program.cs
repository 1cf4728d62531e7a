using Flotilla.Cli.Commands;

namespace Flotilla.Cli;

public static class Program
{
    public static Task<int> Main(string[] args) => FlotillaCommand.RunAsync(args);
}
