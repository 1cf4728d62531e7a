using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Flotilla.Runtime;
using Grpc.Core;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// Peer authentication for the gRPC peer protocol, where there is no connection handshake of our own: every request
/// carries <c>flotilla-peer: ID</c> and <c>flotilla-peer-proof: base64(HMAC-SHA256(secret, "flotilla-peer-grpc" |
/// member id | target id | cluster id))</c>. <see cref="PeerService"/> checks it and that every call's and message's
/// <c>from</c> equals the proven member. The proof is fixed per (member, target) pair: over cleartext h2c someone who
/// can read the traffic could replay it, so use https:// peer addresses (TLS) where the network is not trusted, or
/// the framed-TCP protocol, whose handshake uses fresh nonces.
/// </summary>
public sealed class GrpcPeerAuth(ClusterCredentials credentials, NodeId self, Func<NodeId, bool> isMember)
{
    public const string MemberHeader = "flotilla-peer";
    public const string ProofHeader = "flotilla-peer-proof";

    /// <summary>The header value that proves <paramref name="member"/> to <paramref name="target"/>.</summary>
    public static string Proof(ClusterCredentials credentials, NodeId member, NodeId target)
    {
        var label = "flotilla-peer-grpc"u8;
        var id = Encoding.UTF8.GetBytes(credentials.ClusterId);
        var data = new byte[label.Length + 8 + id.Length];
        label.CopyTo(data);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(label.Length), member.Value);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(label.Length + 4), target.Value);
        id.CopyTo(data.AsSpan(label.Length + 8));
        return Convert.ToBase64String(credentials.Mac(data));
    }

    /// <summary>The proven member of this request, or an <see cref="RpcException"/> (Unauthenticated / PermissionDenied).</summary>
    public NodeId Verify(ServerCallContext context)
    {
        var headers = context.RequestHeaders;
        var memberText = headers.GetValue(MemberHeader);
        var proof = headers.GetValue(ProofHeader);
        if (memberText is null || proof is null || !int.TryParse(memberText, out var value))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "peer calls need flotilla-peer credentials"));
        var member = new NodeId(value);
        var expected = Encoding.ASCII.GetBytes(Proof(credentials, member, self));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(proof), expected))
            throw new RpcException(new Status(StatusCode.PermissionDenied, "wrong cluster secret or cluster id"));
        if (!isMember(member)) throw new RpcException(new Status(StatusCode.PermissionDenied, $"member {value} is not in the peer set"));
        return member;
    }

    /// <summary>Adds the proof headers to every request of a peer channel.</summary>
    internal sealed class Handler(ClusterCredentials credentials, NodeId self, NodeId target, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly string _member = self.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        private readonly string _proof = Proof(credentials, self, target);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(MemberHeader, _member);
            request.Headers.TryAddWithoutValidation(ProofHeader, _proof);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
