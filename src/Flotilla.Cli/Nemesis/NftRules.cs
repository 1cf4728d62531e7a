using System.Text;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// The nftables ruleset of one node's namespace for the network faults in force: drop what comes from the nodes cut
/// off from it, and drop a random share of everything it receives. Each script replaces the namespace's whole ruleset
/// in one transaction (the namespace holds nothing else), so a fault starts and heals atomically.
/// </summary>
public static class NftRules
{
    public const string Table = "flotilla_nemesis";

    /// <param name="cuts">Every cut in force; those ending at <paramref name="node"/> become drop rules here.</param>
    /// <param name="lossPercent">Share of received packets to drop at this node (0 = none; at most 99).</param>
    public static string For(int node, IEnumerable<Cut> cuts, int lossPercent, Func<int, string> addressOf)
    {
        var text = new StringBuilder();
        text.Append("flush ruleset\n");
        var from = cuts.Where(c => c.To == node && c.From != node).Select(c => c.From).Distinct().Order().ToList();
        if (from.Count == 0 && lossPercent <= 0) return text.ToString();
        text.Append($"table inet {Table} {{\n");
        text.Append("  chain input {\n    type filter hook input priority 0; policy accept;\n");
        if (from.Count > 0) text.Append($"    ip saddr {{ {string.Join(", ", from.Select(addressOf))} }} drop\n");
        if (lossPercent > 0) text.Append($"    numgen random mod 100 < {Math.Min(lossPercent, 99)} drop\n");
        text.Append("  }\n}\n");
        return text.ToString();
    }
}
