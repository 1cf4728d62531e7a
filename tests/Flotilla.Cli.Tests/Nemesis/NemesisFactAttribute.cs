using Flotilla.Cli.Nemesis;

namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>A real nemesis run needs root, ip and nft (.ci/run installs nftables where it can): without them the test
/// is skipped with the reason, never failed for lack of them.</summary>
public sealed class NemesisTheoryAttribute : TheoryAttribute
{
    public NemesisTheoryAttribute()
    {
        if (NemesisEnvironment.Missing() is { } missing) Skip = $"nemesis {missing}: real fault-injection runs skipped";
    }
}
