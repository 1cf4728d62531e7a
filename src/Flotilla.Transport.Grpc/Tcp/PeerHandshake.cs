using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// The first bytes of every authenticated framed-TCP peer connection (after TLS, if any), before any frame:
/// <code>
/// server → client  "FLTP" 1 | server nonce (32)
/// client → server  "FLTP" 1 | member id (i32) | target id (i32) | client nonce (32) | cluster id length (u8) | cluster id | proof (32)
/// server → client  status (u8: 0 accepted, else a <see cref="Refusal"/>) | server proof (32, when accepted)
/// proof        = HMAC-SHA256(secret, "flotilla-peer-client" | server nonce | client nonce | member id | target id | cluster id)
/// server proof = HMAC-SHA256(secret, "flotilla-peer-server" | server nonce | client nonce | target id | member id | cluster id)
/// </code>
/// The client proves it knows the cluster's secret and names its member id; the server proves the same back and
/// that it is the member the client meant to dial. Fresh nonces on both sides make a recorded handshake useless.
/// After it, the listener accepts only frames whose <c>from</c> is the authenticated member: one integer compare per
/// frame, no per-message crypto on the latency path.
/// </summary>
internal static class PeerHandshake
{
    private static ReadOnlySpan<byte> Magic => "FLTP\u0001"u8;
    private const int NonceBytes = 32;
    private const int MacBytes = 32;
    private const int HelloBytes = 5 + NonceBytes;
    private const int ClaimFixedBytes = 5 + 4 + 4 + NonceBytes + 1;

    public enum Refusal : byte
    {
        Malformed = 1,
        WrongCluster = 2,
        BadProof = 3,
        NotAMember = 4,
        WrongTarget = 5,
    }

    public static string Describe(Refusal refusal) => refusal switch
    {
        Refusal.WrongCluster => "it belongs to another cluster (cluster id differs)",
        Refusal.BadProof => "the cluster secret is wrong",
        Refusal.NotAMember => "the member id is not in the peer set",
        Refusal.WrongTarget => "it was meant for another member",
        _ => "the handshake was malformed (not a Flotilla peer?)",
    };

    /// <summary>The dialling side. Throws <see cref="PeerHandshakeException"/> when refused or when the other end
    /// cannot prove it is <paramref name="target"/> of this cluster.</summary>
    public static async Task ClientAsync(Stream stream, ClusterCredentials credentials, NodeId self, NodeId target, CancellationToken cancellationToken)
    {
        var hello = new byte[HelloBytes];
        await stream.ReadExactlyAsync(hello, cancellationToken).ConfigureAwait(false);
        if (!hello.AsSpan(0, 5).SequenceEqual(Magic)) throw new PeerHandshakeException("the peer port did not answer as a Flotilla peer");
        var serverNonce = hello.AsSpan(5).ToArray();
        var clientNonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var clusterId = Encoding.UTF8.GetBytes(credentials.ClusterId);

        var claim = new byte[ClaimFixedBytes + clusterId.Length + MacBytes];
        Magic.CopyTo(claim);
        BinaryPrimitives.WriteInt32LittleEndian(claim.AsSpan(5), self.Value);
        BinaryPrimitives.WriteInt32LittleEndian(claim.AsSpan(9), target.Value);
        clientNonce.CopyTo(claim.AsSpan(13));
        claim[13 + NonceBytes] = (byte)clusterId.Length;
        clusterId.CopyTo(claim.AsSpan(ClaimFixedBytes));
        credentials.Mac(Transcript("flotilla-peer-client"u8, serverNonce, clientNonce, self, target, clusterId)).CopyTo(claim.AsSpan(ClaimFixedBytes + clusterId.Length));
        await stream.WriteAsync(claim, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        var status = new byte[1];
        await stream.ReadExactlyAsync(status, cancellationToken).ConfigureAwait(false);
        if (status[0] != 0) throw new PeerHandshakeException($"the peer refused this member: {Describe((Refusal)status[0])}");
        var proof = new byte[MacBytes];
        await stream.ReadExactlyAsync(proof, cancellationToken).ConfigureAwait(false);
        var expected = credentials.Mac(Transcript("flotilla-peer-server"u8, serverNonce, clientNonce, target, self, clusterId));
        if (!CryptographicOperations.FixedTimeEquals(proof, expected))
            throw new PeerHandshakeException($"the peer could not prove it is member {target.Value} of cluster '{credentials.ClusterId}'");
    }

    /// <summary>The listening side: the authenticated member id, or the refusal (already sent to the client).</summary>
    public static async Task<(NodeId? Member, Refusal? Refused)> ServerAsync(Stream stream, ClusterCredentials credentials, NodeId self,
        Func<NodeId, bool> isMember, CancellationToken cancellationToken)
    {
        var serverNonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var hello = new byte[HelloBytes];
        Magic.CopyTo(hello);
        serverNonce.CopyTo(hello.AsSpan(5));
        await stream.WriteAsync(hello, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        var head = new byte[ClaimFixedBytes];
        await stream.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
        if (!head.AsSpan(0, 5).SequenceEqual(Magic)) return await RefuseAsync(stream, Refusal.Malformed, cancellationToken).ConfigureAwait(false);
        var member = new NodeId(BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(5)));
        var target = new NodeId(BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(9)));
        var clientNonce = head.AsSpan(13, NonceBytes).ToArray();
        var rest = new byte[head[13 + NonceBytes] + MacBytes];
        await stream.ReadExactlyAsync(rest, cancellationToken).ConfigureAwait(false);
        var clusterId = rest.AsSpan(0, rest.Length - MacBytes).ToArray();
        var proof = rest.AsSpan(clusterId.Length);

        var ownId = Encoding.UTF8.GetBytes(credentials.ClusterId);
        Refusal? refusal =
            !clusterId.AsSpan().SequenceEqual(ownId) ? Refusal.WrongCluster
            : !CryptographicOperations.FixedTimeEquals(proof, credentials.Mac(Transcript("flotilla-peer-client"u8, serverNonce, clientNonce, member, target, ownId))) ? Refusal.BadProof
            : target != self ? Refusal.WrongTarget
            : !isMember(member) ? Refusal.NotAMember
            : null;
        if (refusal is { } refused) return await RefuseAsync(stream, refused, cancellationToken).ConfigureAwait(false);

        var accept = new byte[1 + MacBytes];
        credentials.Mac(Transcript("flotilla-peer-server"u8, serverNonce, clientNonce, self, member, ownId)).CopyTo(accept.AsSpan(1));
        await stream.WriteAsync(accept, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return (member, null);
    }

    private static async Task<(NodeId?, Refusal?)> RefuseAsync(Stream stream, Refusal refusal, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteAsync(new[] { (byte)refusal }, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) { /* it hung up first; it is refused either way */ }
        return (null, refusal);
    }

    private static byte[] Transcript(ReadOnlySpan<byte> label, byte[] serverNonce, byte[] clientNonce, NodeId first, NodeId second, byte[] clusterId)
    {
        var data = new byte[label.Length + 2 * NonceBytes + 8 + clusterId.Length];
        var span = data.AsSpan();
        label.CopyTo(span);
        span = span[label.Length..];
        serverNonce.CopyTo(span);
        clientNonce.CopyTo(span[NonceBytes..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[(2 * NonceBytes)..], first.Value);
        BinaryPrimitives.WriteInt32LittleEndian(span[(2 * NonceBytes + 4)..], second.Value);
        clusterId.CopyTo(span[(2 * NonceBytes + 8)..]);
        return data;
    }
}

/// <summary>A peer connection failed authentication (either direction); the connection is closed.</summary>
public sealed class PeerHandshakeException(string message) : IOException(message);
