using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>Certificates made at run time (no openssl): a self-signed CA and leaves it signs, valid for 127.0.0.1
/// and localhost, written as PEM files when a test needs the file-based path.</summary>
internal sealed class TestCertificates
{
    public X509Certificate2 Ca { get; }
    private readonly ECDsa _caKey;

    public TestCertificates(string name = "flotilla test CA")
    {
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    public X509Certificate2Collection Trust => [Ca];

    /// <summary>A leaf for servers and clients alike (both extended key usages), with its private key.</summary>
    public X509Certificate2 Leaf(string name = "flotilla node")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(Ca.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12 so SslStream on Linux can use the key.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public TlsSettings Settings(bool requireClientCertificate = false) =>
        new() { Certificate = Leaf(), TrustedCa = Trust, RequireClientCertificate = requireClientCertificate };

    /// <summary>Writes a leaf as cert.pem + key.pem and the CA as ca.pem under <paramref name="directory"/>.</summary>
    public (string Cert, string Key, string Ca) WritePem(string directory, string prefix = "")
    {
        Directory.CreateDirectory(directory);
        var leaf = Leaf();
        var cert = Path.Combine(directory, prefix + "cert.pem");
        var key = Path.Combine(directory, prefix + "key.pem");
        var ca = Path.Combine(directory, prefix + "ca.pem");
        File.WriteAllText(cert, leaf.ExportCertificatePem());
        File.WriteAllText(key, leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(ca, Ca.ExportCertificatePem());
        return (cert, key, ca);
    }
}
