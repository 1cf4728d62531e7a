using System.Globalization;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// The network of a nemesis run: one Linux network namespace per node (<c>flt-nI</c>, address 10.77.0.I on its
/// <c>eth0</c>), each joined by a veth pair (<c>flt-nIh</c> on the host side) to a bridge in the root namespace
/// (<c>flt-br</c>, 10.77.0.254, where the clients and this process live). Faults are nftables rules inside the
/// namespaces (<see cref="NftRules"/>), so a partition drops real packets. Every name starts with <c>flt-</c>:
/// <see cref="RemoveLeftoversAsync"/> clears what a crashed earlier run left behind. A member added during the run
/// gets its own namespace the same way (<see cref="AddNodeAsync"/>), named after its id.
/// </summary>
public sealed class NetnsTopology
{
    public const string Prefix = "flt-";
    public const string Bridge = "flt-br";
    public const string Subnet = "10.77.0";
    public const string HostAddress = Subnet + ".254";

    private readonly HashSet<int> _created = [];

    /// <param name="nodes">Namespaces made at the start: the members, and the spare ones for members added later (so
    /// the clients can be given every address the run will use; a spare address answers "connection refused" until
    /// its member starts).</param>
    public NetnsTopology(int nodes) => Nodes = nodes;

    public int Nodes { get; }

    /// <summary>The client endpoint of every namespace made at the start.</summary>
    public IReadOnlyList<Uri> ClientEndpoints => Enumerable.Range(1, Nodes).Select(n => new Uri($"http://{Address(n)}:{NemesisCluster.ClientPort}")).ToList();

    public static string Namespace(int node) => $"{Prefix}n{node}";

    public static string HostVeth(int node) => $"{Prefix}n{node}h";

    public static string Address(int node) => $"{Subnet}.{node.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Creates the bridge, the namespaces and their links; removes leftovers first.</summary>
    public async Task CreateAsync()
    {
        await RemoveLeftoversAsync();
        await Ip("link", "add", Bridge, "type", "bridge");
        await Ip("addr", "add", HostAddress + "/24", "dev", Bridge);
        await Ip("link", "set", Bridge, "up");
        for (var node = 1; node <= Nodes; node++) await AddNodeAsync(node);
    }

    /// <summary>Node <paramref name="node"/>'s namespace and link on the bridge, unless it has them already (at the start,
    /// and for a member a member fault adds later: its own namespace and address, which the other faults' rules can
    /// then name).</summary>
    public async Task AddNodeAsync(int node)
    {
        if (node is < 1 or > 253) throw new ArgumentOutOfRangeException(nameof(node), $"node {node}: addresses are {Subnet}.1 to .253");
        if (!_created.Add(node)) return;
        var ns = Namespace(node);
        await Ip("netns", "add", ns);
        await Ip("link", "add", HostVeth(node), "type", "veth", "peer", "name", "eth0", "netns", ns);
        await Ip("link", "set", HostVeth(node), "master", Bridge, "up");
        await Ip("-n", ns, "addr", "add", Address(node) + "/24", "dev", "eth0");
        await Ip("-n", ns, "link", "set", "eth0", "up");
        await Ip("-n", ns, "link", "set", "lo", "up");
    }

    /// <summary>Replaces node <paramref name="node"/>'s ruleset (see <see cref="NftRules.For"/>).</summary>
    public Task ApplyRulesAsync(int node, string script) =>
        HostShell.CheckedAsync("ip", ["netns", "exec", Namespace(node), "nft", "-f", "-"], script);

    /// <summary>Removes every <c>flt-</c> namespace (killing what still runs in it, stopped processes too), the bridge,
    /// and the members' small disks (<see cref="NemesisDisks"/>) once nothing runs on them.</summary>
    public static async Task RemoveLeftoversAsync()
    {
        var list = await HostShell.RunAsync("ip", ["netns", "list"]);
        var names = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0]).Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToList();
        foreach (var ns in names)
        {
            var pids = await HostShell.RunAsync("ip", ["netns", "pids", ns]);
            foreach (var pid in pids.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (int.TryParse(pid, out var p)) Signals.Kill(p);
            await HostShell.RunAsync("ip", ["netns", "del", ns]);
        }
        var links = await HostShell.RunAsync("ip", ["-o", "link", "show"]);
        foreach (var line in links.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "7: flt-n2h@if2: <...>" -> flt-n2h
            var parts = line.Split(':', 3);
            if (parts.Length < 2) continue;
            var name = parts[1].Trim().Split('@')[0];
            if (name.StartsWith(Prefix, StringComparison.Ordinal)) await HostShell.RunAsync("ip", ["link", "del", name]);
        }
        await NemesisDisks.UnmountLeftoversAsync();
    }

    private static Task Ip(params string[] arguments) => HostShell.CheckedAsync("ip", arguments);
}
