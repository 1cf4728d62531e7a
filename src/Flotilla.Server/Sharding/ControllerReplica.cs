using Flotilla.Rsm;
using Flotilla.ShardCtl.Protos;
using Flotilla.ShardKv.Controller;

namespace Flotilla.Server.Sharding;

/// <summary>This process's replica of the shard controller group: typed Join/Leave/Move through the log and
/// linearizable Query reads, answering in the <c>flotilla.shardctl.v1</c> messages. Call on the node's scheduler.</summary>
public sealed class ControllerReplica(ReplicatedStateMachine rsm, ShardController controller)
{
    public ReplicatedStateMachine Rsm => rsm;

    public ShardController Controller => controller;

    public Task<CtlReply> JoinAsync(IReadOnlyDictionary<int, string[]> groups, CancellationToken ct) => ChangeAsync(ControllerCommand.Join(groups), ct);

    public Task<CtlReply> LeaveAsync(int[] gids, CancellationToken ct) => ChangeAsync(ControllerCommand.Leave(gids), ct);

    public Task<CtlReply> MoveAsync(int shard, int gid, CancellationToken ct) => ChangeAsync(ControllerCommand.Move(shard, gid), ct);

    public async Task<CtlReply> QueryAsync(int num, CancellationToken ct)
    {
        // A query changes nothing, so it need not enter the log: a ReadIndex read is linearizable and much cheaper
        // (every group leader polls the controller).
        var read = await rsm.ReadAsync(() => controller.Execute(new ControllerCommand { Op = ControllerCommand.QueryOp, Num = num }), ct);
        return read.IsOk ? ShardCtlMapping.ToProto(read.Value!) : new CtlReply { Status = CtlStatus.WrongLeader };
    }

    private async Task<CtlReply> ChangeAsync(byte[] command, CancellationToken ct)
    {
        var submitted = await rsm.SubmitAsync(command, ct);
        if (submitted.IsOk) return ShardCtlMapping.ToProto(ControllerReply.Decode(submitted.Result.Span));
        return new CtlReply { Status = submitted.DefinitelyNotApplied ? CtlStatus.WrongLeader : CtlStatus.Unknown };
    }
}
