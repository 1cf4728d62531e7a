using System.CommandLine;
using System.Net;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server;
using Flotilla.Transport.Grpc;

namespace Flotilla.Cli.Commands;

/// <summary>The security flags of <c>flotilla server</c> (docs/security.md): cluster identity and secret, the Admin
/// service's port and token, TLS on the client and peer ports. Secrets are read from files, never taken as values.</summary>
internal sealed class ServerSecurityFlags
{
    private readonly Option<string> _clusterId = new("--cluster-id") { Description = "The cluster's name, proven on every peer connection (default: flotilla).", DefaultValueFactory = _ => "flotilla" };
    private readonly Option<string?> _secretFile = new("--cluster-secret-file") { Description = "File (mode 0600) holding the cluster secret peers prove they know. Required with peers." };
    private readonly Option<bool> _insecurePeers = new("--insecure-peers") { Description = "Accept unauthenticated peers (anything reaching the peer port can forge Raft messages)." };
    private readonly Option<string?> _adminListen = new("--admin-listen") { Description = "Serve the Admin service (status, shutdown) at IP:PORT, apart from clients." };
    private readonly Option<bool> _adminOnClientPort = new("--admin-on-client-port") { Description = "Also serve the Admin service on the client port." };
    private readonly Option<string?> _adminTokenFile = new("--admin-token-file") { Description = "File (mode 0600) holding the token Admin calls present (authorization: Bearer TOKEN)." };
    private readonly Option<string?> _tlsCert = new("--tls-cert") { Description = "PEM certificate for TLS on the client (and admin) port." };
    private readonly Option<string?> _tlsKey = new("--tls-key") { Description = "PEM private key of --tls-cert." };
    private readonly Option<string?> _tlsClientCa = new("--tls-client-ca") { Description = "PEM CA bundle: require client certificates signed by it (mutual TLS) on the client and admin ports." };
    private readonly Option<string?> _peerTlsCert = new("--peer-tls-cert") { Description = "PEM certificate for TLS between peers (framed TCP); also presented as this member's client certificate." };
    private readonly Option<string?> _peerTlsKey = new("--peer-tls-key") { Description = "PEM private key of --peer-tls-cert." };
    private readonly Option<string?> _peerTlsCa = new("--peer-tls-ca") { Description = "PEM CA bundle peers' certificates must chain to (default: the system's roots)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _clusterId, _secretFile, _insecurePeers, _adminListen, _adminOnClientPort, _adminTokenFile,
                     _tlsCert, _tlsKey, _tlsClientCa, _peerTlsCert, _peerTlsKey, _peerTlsCa })
            command.Options.Add(option);
    }

    /// <summary><paramref name="options"/> with the security settings the flags ask for; bad files are BadInput errors.</summary>
    public ServerOptions Apply(ParseResult parse, ServerOptions options, Func<string, string, IPEndPoint> parseEndPoint)
    {
        var clusterId = parse.GetValue(_clusterId)!;
        return options with
        {
            Credentials = parse.GetValue(_secretFile) is { } secret ? Load("--cluster-secret-file", () => ClusterCredentials.FromFile(clusterId, secret)) : null,
            InsecurePeers = parse.GetValue(_insecurePeers),
            AdminListen = parse.GetValue(_adminListen) is { } admin ? parseEndPoint(admin, "--admin-listen") : null,
            AdminOnClientPort = parse.GetValue(_adminOnClientPort),
            AdminToken = parse.GetValue(_adminTokenFile) is { } token ? Load("--admin-token-file", () => SecretFile.ReadText(token)) : null,
            ClientTls = Tls(parse, _tlsCert, _tlsKey, parse.GetValue(_tlsClientCa), clientCa: true),
            PeerTls = Tls(parse, _peerTlsCert, _peerTlsKey, parse.GetValue(_peerTlsCa), clientCa: false),
        };
    }

    private static TlsSettings? Tls(ParseResult parse, Option<string?> certOption, Option<string?> keyOption, string? ca, bool clientCa)
    {
        var (cert, key) = (parse.GetValue(certOption), parse.GetValue(keyOption));
        if (cert is null && key is null)
            return ca is null ? null : throw new CliException($"{(clientCa ? "--tls-client-ca" : "--peer-tls-ca")} needs {certOption.Name} and {keyOption.Name}", ExitCodes.Usage);
        if (cert is null || key is null) throw new CliException($"{certOption.Name} and {keyOption.Name} go together", ExitCodes.Usage);
        return Load(certOption.Name, () => TlsSettings.FromPemFiles(cert, key, ca, requireClientCertificate: clientCa && ca is not null));
    }

    private static T Load<T>(string option, Func<T> load)
    {
        try { return load(); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException
                                      or System.Security.Cryptography.CryptographicException)
        {
            throw new CliException($"{option}: {e.Message}", ExitCodes.BadInput, e);
        }
    }
}
