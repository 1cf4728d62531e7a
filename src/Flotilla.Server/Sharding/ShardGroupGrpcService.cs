using Flotilla.Runtime;
using Flotilla.ShardGroup.Protos;
using Google.Protobuf;
using Grpc.Core;

namespace Flotilla.Server.Sharding;

/// <summary><c>flotilla.shardgroup.v1.ShardGroup</c>: a local group replica's shard states (for <c>flotilla shard
/// status</c>) and the migration calls between groups, handed to the handler registered for the group.</summary>
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
                ConfigNum = group.Service.Current.Num,
                AppliedIndex = group.Rsm.AppliedIndex,
            };
            for (var s = 0; s < group.Service.ShardCount; s++) reply.States.Add(group.Service.StateOf(s).ToString());
            return Task.FromResult(reply);
        });

    public override Task<GroupCallReply> Call(GroupCallRequest request, ServerCallContext call) =>
        context.InvokeAsync(async () =>
        {
            if (!application.Groups.ContainsKey(request.Gid) || application.CallHandler is not { } handler) return new GroupCallReply();
            var answer = await handler(request.Gid, request.Method, request.Payload.Memory, call.CancellationToken);
            return answer is { } bytes ? new GroupCallReply { Handled = true, Payload = ByteString.CopyFrom(bytes.Span) } : new GroupCallReply();
        });
}
