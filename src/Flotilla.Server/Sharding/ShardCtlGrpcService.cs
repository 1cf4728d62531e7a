using Flotilla.Runtime;
using Flotilla.ShardCtl.Protos;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Server;
using Grpc.Core;

namespace Flotilla.Server.Sharding;

/// <summary>The public <c>flotilla.shardctl.v1.ShardCtl</c> service: hops onto the node's scheduler and asks this
/// process's controller replica (a follower answers WRONG_LEADER; a change whose fate is unknown, UNKNOWN). Join, Leave
/// and Move reshape the store, so they need the admin token (<see cref="AdminGate.CheckToken"/>: UNAUTHENTICATED without
/// it, PERMISSION_DENIED with a wrong one), checked before the controller sees them; Query stays open.</summary>
internal sealed class ShardCtlGrpcService(NodeContext context, ShardServerApplication application, AdminGate gate) : ShardCtl.Protos.ShardCtl.ShardCtlBase
{
    public override Task<CtlReply> Join(JoinRequest request, ServerCallContext call) =>
        ChangeAsync(ControllerCommand.Join(request.Groups.ToDictionary(g => g.Key, g => g.Value.Endpoints.ToArray())), call);

    public override Task<CtlReply> Leave(LeaveRequest request, ServerCallContext call) => ChangeAsync(ControllerCommand.Leave([.. request.Gids]), call);

    public override Task<CtlReply> Move(MoveRequest request, ServerCallContext call) => ChangeAsync(ControllerCommand.Move(request.Shard, request.Gid), call);

    public override Task<CtlReply> Query(QueryRequest request, ServerCallContext call) =>
        context.InvokeAsync(async () => ShardCtlMapping.ToProto(await application.Controller.QueryAsync(request.Num, call.CancellationToken)));

    private Task<CtlReply> ChangeAsync(byte[] command, ServerCallContext call)
    {
        gate.CheckToken(call, "Join, Leave and Move");
        return context.InvokeAsync(async () =>
        {
            try
            {
                return ShardCtlMapping.ToProto(await application.Controller.SubmitAsync(command, call.CancellationToken));
            }
            catch (ShardOutcomeUnknownException)
            {
                return new CtlReply { Status = CtlStatus.Unknown };
            }
        });
    }
}
