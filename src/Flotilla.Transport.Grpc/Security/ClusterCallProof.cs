using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// Proof that a gRPC call served on the client port comes from a member of the cluster: header
/// <c>flotilla-cluster-proof: base64(HMAC-SHA256(secret, "flotilla-cluster-call" | cluster id | purpose | message))</c>,
/// each part length-prefixed. The sharded store's group-to-group migration calls carry it (they export and delete
/// shard data). Unlike <see cref="GrpcPeerAuth"/>'s per-pair proof it is bound to the request's bytes, so someone
/// who reads one call over cleartext h2c can replay only that exact call, not make another.
/// </summary>
public static class ClusterCallProof
{
    public const string Header = "flotilla-cluster-proof";

    /// <summary>The header value proving <paramref name="message"/> (for <paramref name="purpose"/>) under the secret.</summary>
    public static string Compute(ClusterCredentials credentials, string purpose, ReadOnlySpan<byte> message) =>
        Convert.ToBase64String(credentials.Mac(Data(credentials, purpose, message)));

    /// <summary>Returns when <paramref name="headers"/> prove <paramref name="message"/>; else throws an
    /// <see cref="RpcException"/>: UNAUTHENTICATED without the header, PERMISSION_DENIED with a wrong proof.</summary>
    public static void Verify(ClusterCredentials credentials, Metadata headers, string purpose, ReadOnlySpan<byte> message)
    {
        if (headers.GetValue(Header) is not { } proof)
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"this call needs the cluster's credentials ({Header})"));
        var expected = Encoding.ASCII.GetBytes(Compute(credentials, purpose, message));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(proof), expected))
            throw new RpcException(new Status(StatusCode.PermissionDenied, "wrong cluster secret or cluster id"));
    }

    private static byte[] Data(ClusterCredentials credentials, string purpose, ReadOnlySpan<byte> message)
    {
        var label = "flotilla-cluster-call"u8;
        var id = Encoding.UTF8.GetBytes(credentials.ClusterId);
        var what = Encoding.UTF8.GetBytes(purpose);
        var data = new byte[label.Length + 4 + id.Length + 4 + what.Length + message.Length];
        var at = 0;
        label.CopyTo(data);
        at += label.Length;
        foreach (var part in new[] { id, what })
        {
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(at), part.Length);
            part.CopyTo(data.AsSpan(at + 4));
            at += 4 + part.Length;
        }
        message.CopyTo(data.AsSpan(at));
        return data;
    }
}
