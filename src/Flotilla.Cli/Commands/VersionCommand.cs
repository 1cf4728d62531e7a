using System.CommandLine;
using System.Reflection;
using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Commands;

public static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Flotilla version.");
        command.SetAction(parse =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                          ?? typeof(VersionCommand).Assembly.GetName().Version?.ToString() ?? "unknown";
            var plus = version.IndexOf('+');
            parse.InvocationConfiguration.Output.WriteLine($"flotilla {(plus < 0 ? version : version[..plus])} (.NET {Environment.Version})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
