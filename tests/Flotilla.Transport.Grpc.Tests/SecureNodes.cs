using System.Net;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>Real hosts on loopback port 0, each with its own peer security (credentials, TLS), sharing one address book.</summary>
internal sealed class SecureNodes(PeerProtocol protocol) : IAsyncDisposable
{
    private readonly List<RealNodeHost> _hosts = [];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flotilla-secure-" + Guid.NewGuid().ToString("N"));

    public PeerDirectory Directory { get; } = new();

    public static ClusterCredentials Credentials(string clusterId = "test-cluster", string secret = "the shared secret of the test cluster") =>
        new(clusterId, System.Text.Encoding.UTF8.GetBytes(secret));

    /// <summary>Starts node <paramref name="id"/> with a <see cref="RecordingHandler"/> mapped as "test".</summary>
    public async Task<(RealNodeHost Host, RecordingHandler Handler)> StartAsync(int id, PeerSecurity security, TlsSettings? clientTls = null)
    {
        var host = new RealNodeHost(new RealNodeHostOptions
        {
            Id = new NodeId(id),
            Protocol = protocol,
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            TcpListen = protocol == PeerProtocol.Tcp ? new IPEndPoint(IPAddress.Loopback, 0) : null,
            Peers = Directory,
            DataDirectory = Path.Combine(_root, $"n{id}"),
            Transport = TestNodes.FastOptions,
            Security = security,
            ClientTls = clientTls,
        });
        _hosts.Add(host);
        var handler = new RecordingHandler(host.Context);
        host.Context.Router.Map("test", handler);
        await host.StartAsync();
        Directory.Set(host.Id, host.PeerAddress);
        return (host, handler);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts) await host.DisposeAsync();
        try { System.IO.Directory.Delete(_root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
