using System.Net;
using System.Net.Sockets;
using Flotilla.Server.Cluster;
using Xunit;

namespace Flotilla.Server.Tests;

public class LoopbackPortsTests
{
    [Fact]
    public void PortsComeFromBelowTheEphemeralRangeAndAreNeverHandedOutTwice()
    {
        var (low, _) = LoopbackPorts.EphemeralRange();
        var first = LoopbackPorts.PickFree(12);
        var second = LoopbackPorts.PickFree(12);

        Assert.Equal(12, first.Distinct().Count());
        Assert.Empty(first.Intersect(second));
        // A port the kernel can give to an outgoing connection could be taken while a killed member is down.
        if (OperatingSystem.IsLinux()) Assert.All(first.Concat(second), p => Assert.InRange(p, 10_000, low - 1));
        foreach (var port in first)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start(); // free when handed out, and nobody here took it since
            listener.Stop();
        }
    }
}
