using Flotilla.Runtime;
using Flotilla.ShardGroup.Protos;
using Flotilla.ShardKv.Rpc;
using Flotilla.Transport.Grpc;
using Google.Protobuf;
using Grpc.Core;

namespace Flotilla.Server.Sharding;

/// <summary><c>flotilla.shardgroup.v1.ShardGroup</c>: a local group replica's shard states (for <c>flotilla shard
/// status</c>, open: states only, no data) and the migration calls between groups (pull, delete), answered by that
/// group's server. A migration call exports or deletes shard data, so it must prove the cluster's credentials
/// (<see cref="ClusterCallProof"/>, checked before anything else; none configured: <c>--insecure-peers</c>).</summary>
internal sealed class ShardGroupGrpcService(NodeContext context, ShardServerApplication application) : ShardGroup.Protos.ShardGroup.ShardGroupBase
{
    public override Task<GroupStatusReply> Status(GroupStatusRequest request, ServerCallContext call) =>
        context.InvokeAsync(() =>
        {
            if (!application.Groups.TryGetValue(request.Gid, out var group)) return Task.FromResult(new GroupStatusReply { Gid = request.Gid });
            var reply = new GroupStatusReply
            {
                Hosted = true,
                Gid = group.Gid,
                Role = group.Rsm.IsStopped ? "Stopped" : group.Rsm.Raft.Role.ToString(),
                ConfigNum = group.State.Current.Num,
                AppliedIndex = group.Rsm.AppliedIndex,
            };
            for (var s = 0; s < group.State.ShardCount; s++) reply.States.Add(group.State.StateOf(s).ToString());
            return Task.FromResult(reply);
        });

    public override Task<GroupCallReply> Call(GroupCallRequest request, ServerCallContext call)
    {
        if (application.Options.Credentials is { } credentials)
            ClusterCallProof.Verify(credentials, call.RequestHeaders, GrpcShardChannel.GroupCallPurpose, GrpcShardChannel.GroupCallMessage(request));
        return context.InvokeAsync(async () =>
        {
            if (!application.Groups.TryGetValue(request.Gid, out var group)) return new GroupCallReply();
            ShardMoveRequest move;
            try { move = ShardMoveRequest.Decode(request.Payload.Span); }
            catch (InvalidDataException e) { throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message)); }
            ShardMoveReply? reply = request.Method switch
            {
                "pull" => await group.PullAsync(move, call.CancellationToken),
                "delete" => await group.DeleteAsync(move, call.CancellationToken),
                _ => null,
            };
            return reply is null ? new GroupCallReply() : new GroupCallReply { Handled = true, Payload = ByteString.CopyFrom(reply.Encode()) };
        });
    }
}
