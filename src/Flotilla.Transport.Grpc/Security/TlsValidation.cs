using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Flotilla.Transport.Grpc;

/// <summary>Certificate checks shared by the peer and client ports: a chain ending at a configured CA (or, with none,
/// the system's roots), and for a server, the name the client dialled.</summary>
public static class TlsValidation
{
    /// <summary>True when <paramref name="certificate"/> chains to one of <paramref name="trusted"/> (custom trust, no
    /// revocation lookups: a cluster CA has no CRL service), or with <paramref name="trusted"/> null, when the
    /// platform accepted it. <paramref name="errors"/> is the platform's verdict; a name mismatch always fails.</summary>
    public static bool Accept(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? trusted)
    {
        if (certificate is null) return false;
        if (trusted is null) return errors == SslPolicyErrors.None;
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
