using Flotilla.Cli.Nemesis;

namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>A real nemesis run needs root, ip and nft (.ci/run installs nftables where it can), and a kernel that lets
/// it make a network namespace with nftables in it (a container without the capability does not): without them the
/// test is skipped with the reason, never failed for lack of them.</summary>
public sealed class NemesisTheoryAttribute : TheoryAttribute
{
    internal static readonly Lazy<string?> Why = new(() => NemesisEnvironment.Missing() ?? ProbeNamespace());

    public NemesisTheoryAttribute()
    {
        if (Why.Value is { } missing) Skip = $"nemesis {missing}: real fault-injection runs skipped";
    }

    /// <summary>Makes and removes one namespace with an nftables table in it; null when that works.</summary>
    private static string? ProbeNamespace()
    {
        const string probe = "flt-probe";
        try
        {
            HostShell.RunAsync("ip", ["netns", "del", probe]).GetAwaiter().GetResult();
            HostShell.CheckedAsync("ip", ["netns", "add", probe]).GetAwaiter().GetResult();
            HostShell.CheckedAsync("ip", ["netns", "exec", probe, "nft", "-f", "-"], "table inet probe {}\n").GetAwaiter().GetResult();
            return null;
        }
        catch (HostCommandException e)
        {
            return $"cannot make a network namespace with nftables here ({e.Message})";
        }
        finally
        {
            HostShell.RunAsync("ip", ["netns", "del", probe]).GetAwaiter().GetResult();
        }
    }
}

/// <summary>A single real nemesis run: skipped, with the reason, where <see cref="NemesisTheoryAttribute"/> would be.</summary>
public sealed class NemesisFactAttribute : FactAttribute
{
    public NemesisFactAttribute()
    {
        if (NemesisTheoryAttribute.Why.Value is { } missing) Skip = $"nemesis {missing}: real fault-injection runs skipped";
    }
}
