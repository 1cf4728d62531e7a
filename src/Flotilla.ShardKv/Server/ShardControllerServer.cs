using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Rpc;

namespace Flotilla.ShardKv.Server;

/// <summary>
/// One replica of the shard controller: a <see cref="ShardController"/> on its own RSM (Raft group
/// <see cref="GroupId"/>), serving <c>shardctl/query</c> (a linearizable read, no log write) and
/// <c>shardctl/submit</c> (join/leave/move through the log). Every configuration change is one log entry, so a leader
/// that crashes mid-change leaves it either applied on every replica or on none (then a retry applies it once:
/// a repeated join or leave is refused as GroupExists / NoSuchGroup and creates nothing).
/// </summary>
public sealed class ShardControllerServer : IRpcHandler
{
    /// <summary>The controller's Raft group: service <c>raft.ctrl</c>, storage <c>raft/ctrl/</c>.</summary>
    public const string GroupId = "ctrl";

    private readonly NodeContext _ctx;

    private ShardControllerServer(NodeContext ctx, ReplicatedStateMachine rsm, ShardController controller)
    {
        _ctx = ctx;
        Rsm = rsm;
        Controller = controller;
    }

    public ReplicatedStateMachine Rsm { get; }

    /// <summary>This replica's state (read it on the node's scheduler).</summary>
    public ShardController Controller { get; }

    /// <summary>Starts the replica (state recovered from its snapshot and log) and maps service <c>shardctl</c>.</summary>
    public static async Task<ShardControllerServer> StartAsync(NodeContext ctx, RsmOptions options, int shardCount, CancellationToken ct = default)
    {
        var controller = new ShardController(shardCount);
        var rsm = await ReplicatedStateMachine.StartAsync(ctx, options, controller, ct);
        var server = new ShardControllerServer(ctx, rsm, controller);
        ctx.Router.Map(ShardMethods.ControllerService, server);
        return server;
    }

    public async Task StopAsync()
    {
        _ctx.Router.Unmap(ShardMethods.ControllerService);
        await Rsm.StopAsync();
    }

    /// <summary>Configuration <paramref name="num"/> (-1 = latest) by a linearizable read; NotLeader when this
    /// replica cannot confirm it leads.</summary>
    public async Task<ControllerReply> QueryAsync(int num, CancellationToken ct)
    {
        var read = await Rsm.ReadAsync(() => Controller.Execute(new ControllerCommand { Op = ControllerCommand.QueryOp, Num = num }), ct);
        return read.IsOk ? read.Value! : new ControllerReply { Error = ControllerError.NotLeader };
    }

    /// <summary>Proposes a join, leave or move. NotLeader when it certainly did not apply; throws
    /// <see cref="ShardOutcomeUnknownException"/> when it may have.</summary>
    public async Task<ControllerReply> SubmitAsync(ReadOnlyMemory<byte> command, CancellationToken ct)
    {
        var decoded = ControllerCommand.Decode(command.Span); // refuse garbage before it reaches the log
        if (decoded.Op == ControllerCommand.QueryOp) return await QueryAsync(decoded.Num, ct);
        var submitted = await Rsm.SubmitAsync(command, ct);
        if (submitted.IsOk) return ControllerReply.Decode(submitted.Result.Span);
        if (submitted.DefinitelyNotApplied) return new ControllerReply { Error = ControllerError.NotLeader };
        throw new ShardOutcomeUnknownException(submitted.Status);
    }

    public async ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        method switch
        {
            ShardMethods.Query => (await QueryAsync(ControllerCommand.Decode(request.Span).Num, cancellationToken)).Encode(),
            ShardMethods.Submit => (await SubmitAsync(request, cancellationToken)).Encode(),
            _ => throw new UnknownMethodException(method),
        };

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        // No one-way messages.
    }
}

/// <summary>A proposal whose fate this replica cannot tell (leadership lost, timeout, shutdown): the caller sees a
/// failed call, i.e. no answer, and must assume it may have applied.</summary>
public sealed class ShardOutcomeUnknownException(SubmitStatus status) : Exception($"outcome unknown: {status}")
{
    public SubmitStatus Status { get; } = status;
}
