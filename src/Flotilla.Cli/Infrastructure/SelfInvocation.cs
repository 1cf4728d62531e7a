using System.Reflection;
using Flotilla.Server.Cluster;

namespace Flotilla.Cli.Infrastructure;

/// <summary>How to start this same <c>flotilla</c> executable again: directly (the apphost or installed tool) or
/// through <c>dotnet flotilla.dll</c>. Used by commands that spawn worker or server processes.</summary>
public static class SelfInvocation
{
    public static FlotillaInvocation Current()
    {
        var process = Environment.ProcessPath ?? throw new CliException("cannot tell which executable is running");
        var name = Path.GetFileNameWithoutExtension(process);
        if (!name.Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return new FlotillaInvocation(process, []);
        // Under `dotnet flotilla.dll` (or a test host) the entry assembly may not be the CLI: point at the CLI's dll.
        var entry = Assembly.GetEntryAssembly();
        var cli = entry?.GetName().Name == "flotilla" ? entry.Location : typeof(SelfInvocation).Assembly.Location;
        return new FlotillaInvocation(process, [cli]);
    }
}
