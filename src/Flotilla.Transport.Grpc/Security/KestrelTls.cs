using System.Net.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Flotilla.Transport.Grpc;

/// <summary>TLS on a Kestrel endpoint (HTTP/2 negotiated by ALPN), optionally requiring a client certificate
/// that chains to <see cref="TlsSettings.TrustedCa"/> (mutual TLS).</summary>
public static class KestrelTls
{
    public static void Apply(ListenOptions listen, TlsSettings? tls)
    {
        if (tls is null) return;
        listen.UseHttps(https =>
        {
            https.ServerCertificate = tls.Certificate;
            if (!tls.RequireClientCertificate) return;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            // A client certificate names a client, not the host it dialled: only its chain is checked.
            https.ClientCertificateValidation = (certificate, _, errors) =>
                TlsValidation.Accept(certificate, errors & ~SslPolicyErrors.RemoteCertificateNameMismatch, tls.TrustedCa);
        });
    }
}
