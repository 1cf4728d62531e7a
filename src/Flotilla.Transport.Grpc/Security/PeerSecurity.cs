using System.Security.Cryptography.X509Certificates;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// How a node authenticates its peer connections (see docs/security.md). The default (no credentials, no TLS) is the
/// open transport of tests and benchmarks; <c>flotilla server</c> always sets <see cref="Credentials"/>.
/// </summary>
public sealed record PeerSecurity
{
    /// <summary>Every peer connection starts with a handshake proving the peer knows this cluster's secret and naming
    /// the member it is; the listener then accepts only frames from that member. Null: no peer authentication.</summary>
    public ClusterCredentials? Credentials { get; init; }

    /// <summary>TLS on the framed-TCP peer connections (mutual: each side presents its certificate). Null: cleartext.</summary>
    public TlsSettings? Tls { get; init; }

    /// <summary>A connection that has not finished TLS and the handshake within this is closed.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public static PeerSecurity None { get; } = new();
}

/// <summary>
/// A TLS endpoint's certificate and whom it trusts. <see cref="Certificate"/> carries its private key.
/// <see cref="TrustedCa"/> null trusts the system's roots; otherwise only chains ending at one of these.
/// </summary>
public sealed record TlsSettings
{
    public required X509Certificate2 Certificate { get; init; }

    public X509Certificate2Collection? TrustedCa { get; init; }

    /// <summary>Client port only: require and verify a client certificate (mutual TLS) against <see cref="TrustedCa"/>.</summary>
    public bool RequireClientCertificate { get; init; }

    /// <summary>Loads a PEM certificate (the first in <paramref name="certPath"/>, chain after it ignored), its PEM private
    /// key, and optionally a PEM CA bundle.</summary>
    public static TlsSettings FromPemFiles(string certPath, string keyPath, string? caPath = null, bool requireClientCertificate = false)
    {
        var certificate = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // Linux SslStream needs a certificate whose key is not ephemeral: round-trip through PKCS#12.
        certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        return new TlsSettings
        {
            Certificate = certificate,
            TrustedCa = caPath is null ? null : LoadCa(caPath),
            RequireClientCertificate = requireClientCertificate,
        };
    }

    public static X509Certificate2Collection LoadCa(string path)
    {
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPemFile(path);
        return bundle.Count > 0 ? bundle : throw new InvalidDataException($"{path}: no PEM certificate in it");
    }
}
