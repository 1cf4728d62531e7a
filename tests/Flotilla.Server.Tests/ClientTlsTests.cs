using System.Net;
using Flotilla.Cli.Commands;
using Flotilla.Kv.Protos;
using Flotilla.Runtime;
using Flotilla.Server.Cluster;
using Flotilla.Server.Protos;
using Flotilla.Transport.Grpc;
using Flotilla.Transport.Grpc.Tests;
using Grpc.Core;
using Grpc.Net.Client;
using Flotilla.Server.Tests.Support;

namespace Flotilla.Server.Tests;

/// <summary>TLS on the client (and admin) port of a real one-member server, certificates from PEM files made at run time.</summary>
public sealed class ClientTlsTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"flotilla-tls-{Guid.NewGuid():N}");
    private readonly TestCertificates _ca = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
        return Task.CompletedTask;
    }

    private async Task<(FlotillaServer Server, int AdminPort)> StartAsync(bool mutual, string? adminToken = "admin-token-for-tls-tests")
    {
        var (cert, key, ca) = _ca.WritePem(Path.Combine(_directory, "tls"), "server-");
        var (port, adminPort) = (CliProcess.FreePort(), CliProcess.FreePort());
        var server = await FlotillaServer.StartAsync(new ServerOptions
        {
            Id = new NodeId(1),
            Listen = new IPEndPoint(IPAddress.Loopback, port),
            Members = new Dictionary<NodeId, Uri> { [new NodeId(1)] = new($"https://127.0.0.1:{port}") },
            DataDirectory = Path.Combine(_directory, "data"),
            ClientTls = TlsSettings.FromPemFiles(cert, key, ca, requireClientCertificate: mutual),
            AdminListen = new IPEndPoint(IPAddress.Loopback, adminPort),
            AdminToken = adminToken,
        }, new KvServerApplication());
        Assert.True(await ClusterFixture.EventuallyAsync(async () => (await server.SnapshotAsync()).IsLeader, TimeSpan.FromSeconds(20)));
        return (server, adminPort);
    }

    [Fact]
    public async Task ATlsClientPortServesClientsThatTrustItsCaAndRefusesOthers()
    {
        var (server, _) = await StartAsync(mutual: false);
        await using (server)
        {
            Assert.Equal("https", server.Address.Scheme);
            var (_, _, ca) = _ca.WritePem(Path.Combine(_directory, "client"));
            var output = new StringWriter();

            var put = await FlotillaCommand.RunAsync(["kv", "put", "greeting", "hello", "--version", "0", "--server", $"127.0.0.1:{server.Address.Port}",
                "--ca", ca, "--timeout", "20s"], output, output);
            var untrusted = await Assert.ThrowsAsync<RpcException>(async () =>
                await new Kv.Protos.Kv.KvClient(GrpcChannel.ForAddress(server.Address)).GetAsync(new GetRequest { Key = "greeting" }));
            var cleartext = await Assert.ThrowsAsync<RpcException>(async () =>
                await new Kv.Protos.Kv.KvClient(GrpcChannel.ForAddress($"http://127.0.0.1:{server.Address.Port}")).GetAsync(new GetRequest { Key = "greeting" }));

            Assert.True(put == 0, output.ToString());
            // The TLS handshake fails on the client (grpc-dotnet reports it as Internal or Unavailable): nothing was read.
            Assert.Contains(untrusted.StatusCode, new[] { StatusCode.Internal, StatusCode.Unavailable });
            Assert.NotEqual(StatusCode.OK, cleartext.StatusCode);
            using var trusted = Channel(server.Address, clientCertificate: null);
            var got = await new Kv.Protos.Kv.KvClient(trusted).GetAsync(new GetRequest { Key = "greeting" });
            Assert.Equal("hello", got.Value);
        }
    }

    [Fact]
    public async Task MutualTlsRefusesAClientWithoutACertificateAndLetsACertifiedOneUseAdminWithoutAToken()
    {
        var (server, adminPort) = await StartAsync(mutual: true, adminToken: null);
        await using (server)
        {
            using var anonymous = Channel(server.Address, clientCertificate: null);
            using var certified = Channel(server.Address, clientCertificate: _ca.Leaf("a client"));
            var adminAddress = new Uri($"https://127.0.0.1:{adminPort}");
            using var adminAnonymous = new AdminClient(adminAddress, tls: new AdminTls(_ca.Trust));
            using var adminCertified = new AdminClient(adminAddress, tls: new AdminTls(_ca.Trust, _ca.Leaf("an operator")));

            var refused = await Assert.ThrowsAsync<RpcException>(async () =>
                await new Kv.Protos.Kv.KvClient(anonymous).GetAsync(new GetRequest { Key = "k" }));
            var answered = await new Kv.Protos.Kv.KvClient(certified).GetAsync(new GetRequest { Key = "k" });

            // Refused at the TLS layer. With TLS 1.3 the server checks the client's certificate after the client's side of
            // the handshake is done, so the client sees either the failed connection (Unavailable) or the connection torn
            // down under its first request (Internal), depending on timing (both seen in CI); never an answer.
            Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
            Assert.NotNull(answered);
            Assert.Null(await adminAnonymous.TryStatusAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(1, (await adminCertified.TryStatusAsync(TimeSpan.FromSeconds(5)))?.Id);
        }
    }

    private GrpcChannel Channel(Uri address, System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { SslOptions = new AdminTls(_ca.Trust, clientCertificate).ClientOptions() },
        });
}
