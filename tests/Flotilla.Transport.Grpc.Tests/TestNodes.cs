using System.Net;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>Real hosts on loopback port 0 sharing one address book, each with its own temporary data directory.</summary>
internal sealed class TestNodes : IAsyncDisposable
{
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

    public async Task<RealNodeHost> StartAsync(int id, int port = 0, GrpcTransportOptions? options = null, Action<RealNodeHost>? beforeStart = null)
    {
        var host = new RealNodeHost(new RealNodeHostOptions
        {
            Id = new NodeId(id),
            Listen = new IPEndPoint(IPAddress.Loopback, port),
            Peers = Directory,
            DataDirectory = Path.Combine(_root, $"n{id}"),
            Transport = options ?? FastOptions,
        });
        _hosts.Add(host);
        beforeStart?.Invoke(host);
        await host.StartAsync();
        Directory.Set(host.Id, host.Address);
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
