using Flotilla.Runtime;
using Flotilla.ShardCtl.Protos;
using Grpc.Core;

namespace Flotilla.Server.Sharding;

/// <summary>The public <c>flotilla.shardctl.v1.ShardCtl</c> service: hops onto the node's scheduler and asks this
/// process's controller replica (a follower answers WRONG_LEADER).</summary>
internal sealed class ShardCtlGrpcService(NodeContext context, ShardServerApplication application) : ShardCtl.Protos.ShardCtl.ShardCtlBase
{
    public override Task<CtlReply> Join(JoinRequest request, ServerCallContext call)
    {
        var groups = request.Groups.ToDictionary(g => g.Key, g => g.Value.Endpoints.ToArray());
        return context.InvokeAsync(() => application.Controller.JoinAsync(groups, call.CancellationToken));
    }

    public override Task<CtlReply> Leave(LeaveRequest request, ServerCallContext call)
    {
        var gids = request.Gids.ToArray();
        return context.InvokeAsync(() => application.Controller.LeaveAsync(gids, call.CancellationToken));
    }

    public override Task<CtlReply> Move(MoveRequest request, ServerCallContext call) =>
        context.InvokeAsync(() => application.Controller.MoveAsync(request.Shard, request.Gid, call.CancellationToken));

    public override Task<CtlReply> Query(QueryRequest request, ServerCallContext call) =>
        context.InvokeAsync(() => application.Controller.QueryAsync(request.Num, call.CancellationToken));
}
