using System.Security.Cryptography;
using System.Text;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// What every member of one cluster shares: a cluster id (not secret: it names the cluster, so a member of another
/// cluster is refused even if it somehow had the same secret) and a secret (at least 16 bytes) that a peer proves it
/// knows on every connection (see <see cref="Tcp.PeerHandshake"/>). The secret never crosses the wire.
/// </summary>
public sealed class ClusterCredentials
{
    public const int SecretBytesMin = 16;
    public const int ClusterIdBytesMax = 200;

    private readonly byte[] _secret;

    public ClusterCredentials(string clusterId, ReadOnlySpan<byte> secret)
    {
        ArgumentNullException.ThrowIfNull(clusterId);
        var idBytes = Encoding.UTF8.GetByteCount(clusterId);
        if (idBytes is 0 or > ClusterIdBytesMax) throw new ArgumentException($"a cluster id has 1 to {ClusterIdBytesMax} UTF-8 bytes", nameof(clusterId));
        if (secret.Length < SecretBytesMin) throw new ArgumentException($"a cluster secret has at least {SecretBytesMin} bytes", nameof(secret));
        ClusterId = clusterId;
        _secret = secret.ToArray();
    }

    public string ClusterId { get; }

    /// <summary>HMAC-SHA256 of <paramref name="data"/> under the secret.</summary>
    internal byte[] Mac(ReadOnlySpan<byte> data) => HMACSHA256.HashData(_secret, data);

    /// <summary>A fresh random secret as text (base64 of 32 bytes): what <c>flotilla cluster start</c> writes.</summary>
    public static string NewSecretText() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Credentials nobody else has: a one-member server refuses every peer connection with these.</summary>
    public static ClusterCredentials Unshared(string clusterId) => new(clusterId, RandomNumberGenerator.GetBytes(32));

    /// <summary>Reads the secret from <paramref name="path"/> (<see cref="SecretFile.Read"/>).</summary>
    public static ClusterCredentials FromFile(string clusterId, string path) => new(clusterId, SecretFile.Read(path));
}
