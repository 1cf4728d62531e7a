using System.Runtime.InteropServices;

namespace Flotilla.Cli.Nemesis;

/// <summary>What a nemesis run needs from the machine: Linux, root, and the <c>ip</c> and <c>nft</c> tools.</summary>
public static class NemesisEnvironment
{
    /// <summary>Null when a run can start; otherwise why not, in one line a user can act on.</summary>
    public static string? Missing()
    {
        if (!OperatingSystem.IsLinux()) return "needs Linux (network namespaces and nftables)";
        if (geteuid() != 0) return "needs root (it creates network namespaces, a bridge and nftables rules)";
        foreach (var tool in new[] { "ip", "nft" })
            if (Find(tool) is null) return $"needs the '{tool}' tool on PATH (apt-get install -y {(tool == "ip" ? "iproute2" : "nftables")})";
        return null;
    }

    private static string? Find(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        // Root's usual tool directories too: a test host may run with a short PATH.
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
    }

    [DllImport("libc")]
    private static extern uint geteuid();
}
