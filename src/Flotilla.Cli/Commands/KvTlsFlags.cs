using System.CommandLine;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Flotilla.Cli.Infrastructure;
using Flotilla.Transport.Grpc;

namespace Flotilla.Cli.Commands;

/// <summary><c>kv get|put --ca FILE [--cert FILE --key FILE]</c>: talk TLS to a server whose client port has
/// <c>--tls-cert</c>, trusting the CA in FILE, presenting a client certificate when the server asks (mutual TLS).</summary>
internal static class KvTlsFlags
{
    private static readonly Option<string?> Ca = new("--ca") { Description = "PEM CA bundle to trust: dial the servers over TLS (https)." };
    private static readonly Option<string?> Cert = new("--cert") { Description = "PEM client certificate, for servers that require one (mutual TLS)." };
    private static readonly Option<string?> Key = new("--key") { Description = "PEM private key of --cert." };

    public static void AddTo(Command command)
    {
        command.Options.Add(Ca);
        command.Options.Add(Cert);
        command.Options.Add(Key);
    }

    /// <summary>The TLS options (null: cleartext), and the endpoints with https:// when TLS is asked for.</summary>
    public static (SslClientAuthenticationOptions? Tls, IReadOnlyList<Uri> Endpoints) Apply(ParseResult parse, IReadOnlyList<Uri> endpoints)
    {
        var (ca, cert, key) = (parse.GetValue(Ca), parse.GetValue(Cert), parse.GetValue(Key));
        if (ca is null && cert is null && key is null) return (null, endpoints);
        if (cert is null != key is null) throw new CliException("--cert and --key go together", ExitCodes.Usage);
        X509Certificate2Collection? trusted;
        X509Certificate2? client = null;
        try
        {
            trusted = ca is null ? null : TlsSettings.LoadCa(ca);
            if (cert is not null) client = TlsSettings.FromPemFiles(cert, key!).Certificate;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new CliException($"TLS files: {e.Message}", ExitCodes.BadInput, e);
        }
        var tls = new SslClientAuthenticationOptions
        {
            ClientCertificates = client is null ? null : [client],
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => TlsValidation.Accept(certificate, errors, trusted),
        };
        return (tls, endpoints.Select(e => e.Scheme == Uri.UriSchemeHttp ? new UriBuilder(e) { Scheme = Uri.UriSchemeHttps, Port = e.Port }.Uri : e).ToList());
    }
}
