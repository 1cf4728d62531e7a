using System.Net;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>Real hosts on loopback port 0 sharing one address book, each with its own temporary data directory.</summary>
internal sealed class TestNodes(PeerProtocol protocol = PeerProtocol.Grpc) : IAsyncDisposable
{
    public PeerProtocol Protocol => protocol;

    /// <summary>The address a node of this protocol would have on a loopback port.</summary>
    public Uri AddressFor(int port) => new($"{(protocol == PeerProtocol.Grpc ? "http" : "tcp")}://127.0.0.1:{port}");

    private readonly List<RealNodeHost> _hosts = [];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flotilla-transport-" + Guid.NewGuid().ToString("N"));

    public PeerDirectory Directory { get; } = new();

    /// <summary>Fast reconnects so restart tests finish quickly.</summary>
    public static GrpcTransportOptions FastOptions { get; } = new()
    {
        ReconnectBackoffMin = TimeSpan.FromMilliseconds(10),
        ReconnectBackoffMax = TimeSpan.FromMilliseconds(100),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>Starts a node; <paramref name="port"/> is its peer port (Kestrel's for gRPC, the TCP listener's for framed TCP).</summary>
    public async Task<RealNodeHost> StartAsync(int id, int port = 0, GrpcTransportOptions? options = null, Action<RealNodeHost>? beforeStart = null)
    {
        var host = new RealNodeHost(new RealNodeHostOptions
        {
            Id = new NodeId(id),
            Protocol = protocol,
            Listen = new IPEndPoint(IPAddress.Loopback, protocol == PeerProtocol.Grpc ? port : 0),
            TcpListen = protocol == PeerProtocol.Tcp ? new IPEndPoint(IPAddress.Loopback, port) : null,
            Peers = Directory,
            DataDirectory = Path.Combine(_root, $"n{id}"),
            Transport = options ?? FastOptions,
        });
        _hosts.Add(host);
        beforeStart?.Invoke(host);
        await host.StartAsync();
        Directory.Set(host.Id, host.PeerAddress);
        return host;
    }

    /// <summary>Stops and disposes one host, as if its process died.</summary>
    public async Task KillAsync(RealNodeHost host)
    {
        _hosts.Remove(host);
        await host.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts) await host.DisposeAsync();
        try { System.IO.Directory.Delete(_root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
