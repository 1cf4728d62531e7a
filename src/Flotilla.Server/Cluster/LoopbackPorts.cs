using System.Net;
using System.Net.Sockets;

namespace Flotilla.Server.Cluster;

/// <summary>
/// Picks free loopback ports for a local cluster from below the kernel's ephemeral range. A port the kernel hands out
/// for port-0 binds and for the local end of every outgoing connection can be taken by anyone between our check and
/// the member's bind, and again while a killed member is down before it restarts on the same port (seen in CI: the
/// quick-start demo's restarted member found its port held by a client connection). Ports below that range are only
/// ever taken by an explicit bind, and this process never hands out one port twice.
/// </summary>
public static class LoopbackPorts
{
    private const int Lowest = 10_000;
    private static readonly object Gate = new();
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>Returns <paramref name="count"/> distinct ports free at the time of the call, none handed out before by this process.</summary>
    public static List<int> PickFree(int count)
    {
        var (ephemeralLow, _) = EphemeralRange();
        if (ephemeralLow - Lowest < 16 * count) return KernelChosen(count);
        lock (Gate)
        {
            var span = ephemeralLow - Lowest;
            var start = Random.Shared.Next(span);
            var held = new List<TcpListener>();
            try
            {
                for (var i = 0; i < span && held.Count < count; i++)
                {
                    var port = Lowest + (start + i) % span;
                    if (HandedOut.Contains(port)) continue;
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    try { listener.Start(); }
                    catch (SocketException) { continue; }
                    held.Add(listener);
                }
                if (held.Count < count) return KernelChosen(count);
                var ports = held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
                HandedOut.UnionWith(ports);
                return ports;
            }
            finally { held.ForEach(l => l.Stop()); }
        }
    }

    /// <summary>The ephemeral port range, from /proc on Linux, else the IANA range other systems use.</summary>
    public static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = System.IO.File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out var low) && int.TryParse(parts[1], out var high)) return (low, high);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return (49_152, 65_535);
    }

    // Fallback when the range below the ephemeral one is too small: let the kernel choose, holding every listener until
    // all are chosen so one port is not handed out twice.
    private static List<int> KernelChosen(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
