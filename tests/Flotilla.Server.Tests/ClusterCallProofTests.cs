using Flotilla.Server.Sharding;
using Flotilla.ShardGroup.Protos;
using Flotilla.Transport.Grpc;
using Google.Protobuf;
using Grpc.Core;

namespace Flotilla.Server.Tests;

/// <summary>The migration calls' proof is bound to the request: a proof read off one call does not admit another.</summary>
public sealed class ClusterCallProofTests
{
    private static readonly ClusterCredentials Credentials = new("c1", "sixteen-plus-bytes-of-secret"u8);

    private static Metadata ProofOf(GroupCallRequest request) => new()
    {
        { ClusterCallProof.Header, ClusterCallProof.Compute(Credentials, GrpcShardChannel.GroupCallPurpose, GrpcShardChannel.GroupCallMessage(request)) },
    };

    private static void Verify(Metadata headers, GroupCallRequest request) =>
        ClusterCallProof.Verify(Credentials, headers, GrpcShardChannel.GroupCallPurpose, GrpcShardChannel.GroupCallMessage(request));

    [Fact]
    public void AProofAdmitsItsOwnRequestOnlyNotOneWithAnotherMethodGroupOrPayload()
    {
        var pull = new GroupCallRequest { Gid = 1, Method = "pull", Payload = ByteString.CopyFromUtf8("{\"num\":3,\"shards\":[5]}") };
        var proof = ProofOf(pull);
        Verify(proof, pull);
        Verify(proof, new GroupCallRequest(pull));

        foreach (var other in new[]
                 {
                     new GroupCallRequest(pull) { Method = "delete" },
                     new GroupCallRequest(pull) { Gid = 2 },
                     new GroupCallRequest(pull) { Payload = ByteString.CopyFromUtf8("{\"num\":3,\"shards\":[6]}") },
                 })
        {
            var refused = Assert.Throws<RpcException>(() => Verify(proof, other));
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        }
        Assert.Equal(StatusCode.Unauthenticated, Assert.Throws<RpcException>(() => Verify(new Metadata(), pull)).StatusCode);
    }
}
