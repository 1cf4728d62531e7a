using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server.Cluster;

/// <summary>How an admin or KV client trusts a TLS server: a CA bundle (null: the system's roots) and, for mutual
/// TLS, its own certificate.</summary>
public sealed record AdminTls(X509Certificate2Collection? TrustedCa, X509Certificate2? ClientCertificate = null)
{
    public SslClientAuthenticationOptions ClientOptions() => new()
    {
        ClientCertificates = ClientCertificate is null ? null : [ClientCertificate],
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => TlsValidation.Accept(certificate, errors, TrustedCa),
    };
}
