using Flotilla.Kv;
using Flotilla.Kv.Protos;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.ShardKv.Group;
using Flotilla.ShardKv.Rpc;

namespace Flotilla.ShardKv.Server;

/// <summary>
/// One replica of a replica group: a <see cref="ShardGroupService"/> on its own RSM, the service
/// <c>shardkv.&lt;gid&gt;</c> (get, put, and the pull/delete of a migration), and the <see cref="ShardGroupDriver"/>
/// that moves the group through configurations while this replica leads.
/// <list type="bullet">
/// <item>Get: a ReadIndex read; WrongGroup when the shard is not served here now, WrongServer when not the leader.</item>
/// <item>Put: through the log; WrongGroup when the state machine refused it (not served at that log position),
/// WrongServer when it certainly never applies; an unknown outcome fails the call (no answer), so the client's ErrMaybe
/// rule stays exact.</item>
/// <item>Pull(n, shards): a ReadIndex read of the frozen shards, answered only once this replica has applied
/// configuration n and lost them in it (NotReady before); with a page size, one page of one shard after a key cursor.</item>
/// <item>Delete(n, shards): the new owner installed them; proposes the deletion, answers Ok once no copy is left.</item>
/// </list>
/// </summary>
public sealed class ShardGroupServer : IRpcHandler
{
    private readonly NodeContext _ctx;
    private readonly ShardGroupDriver _driver;
    private readonly IShardChannel _channel;

    private ShardGroupServer(NodeContext ctx, ShardGroupOptions options, ReplicatedStateMachine rsm, ShardGroupService service, IShardChannel channel)
    {
        _ctx = ctx;
        Options = options;
        Rsm = rsm;
        State = service;
        _driver = new ShardGroupDriver(ctx, options, rsm, service, channel);
        _channel = channel;
    }

    /// <summary>A client's wrong-server answer, naming the leader this replica knows of (not itself) when it can.</summary>
    private ShardKvReply WrongServer() => new()
    {
        Status = ShardStatus.WrongServer,
        Leader = Rsm.Leader is { } leader && leader != _ctx.Id ? _channel.EndpointOfMember(leader) : null,
    };

    public ShardGroupOptions Options { get; }
    public int Gid => Options.Gid;
    public ReplicatedStateMachine Rsm { get; }

    /// <summary>This replica's state (read it on the node's scheduler).</summary>
    public ShardGroupService State { get; }

    /// <summary>Driver steps that failed with an exception (a bug: the scenarios require none).</summary>
    public long DriverErrors => _driver.Errors;

    /// <summary>Starts the replica (state recovered from its snapshot and log), maps <c>shardkv.&lt;gid&gt;</c> and
    /// starts the driver. <paramref name="channel"/> reaches the controller and the other groups.</summary>
    public static async Task<ShardGroupServer> StartAsync(NodeContext ctx, ShardGroupOptions options, IShardChannel channel, CancellationToken ct = default)
    {
        var service = new ShardGroupService(options.Gid, options.ShardCount);
        var rsm = await ReplicatedStateMachine.StartAsync(ctx, options.ToRsmOptions(), service, ct);
        var server = new ShardGroupServer(ctx, options, rsm, service, channel);
        ctx.Router.Map(ShardMethods.GroupService(options.Gid), server);
        server._driver.Start();
        return server;
    }

    public async Task StopAsync()
    {
        _driver.Stop();
        _ctx.Router.Unmap(ShardMethods.GroupService(Gid));
        await Rsm.StopAsync();
    }

    public async Task<ShardKvReply> GetAsync(ShardKvRequest get, CancellationToken ct)
    {
        if (KvLimits.Validate(new GetRequest { Key = get.Key }) is { } why) throw new ArgumentException(why);
        var read = await Rsm.ReadAsync(() => State.Get(get.Key), ct);
        if (!read.IsOk) return WrongServer();
        if (read.Value is not { } reply) return new ShardKvReply { Status = ShardStatus.WrongGroup };
        return new ShardKvReply { KvError = reply.Error, Value = reply.Value, Version = reply.Version };
    }

    /// <summary>Throws <see cref="ShardOutcomeUnknownException"/> when the put may or may not have applied.</summary>
    public async Task<ShardKvReply> PutAsync(ShardKvRequest put, CancellationToken ct)
    {
        if (KvLimits.Validate(new PutRequest { Key = put.Key, Value = put.Value ?? "", Version = put.Version }) is { } why) throw new ArgumentException(why);
        var submitted = await Rsm.SubmitAsync(GroupCommand.Put(put.Key, put.Value ?? "", put.Version), ct);
        if (submitted.IsOk)
        {
            var applied = GroupReply.Decode(submitted.Result.Span);
            return applied.Status == GroupStatus.WrongGroup ? new ShardKvReply { Status = ShardStatus.WrongGroup } : new ShardKvReply { KvError = applied.KvError };
        }
        if (submitted.DefinitelyNotApplied) return WrongServer();
        throw new ShardOutcomeUnknownException(submitted.Status);
    }

    public async Task<ShardMoveReply> PullAsync(ShardMoveRequest pull, CancellationToken ct)
    {
        if (pull.PageBytes > 0)
        {
            if (pull.Shards.Length != 1) throw new ArgumentException("a paged pull names exactly one shard");
            var page = await Rsm.ReadAsync(() => State.ExportPage(pull.Num, pull.Shards[0], pull.After, pull.PageBytes), ct);
            if (!page.IsOk) return new ShardMoveReply { Status = ShardStatus.WrongServer };
            return page.Value is { } p ? new ShardMoveReply { Page = p } : new ShardMoveReply { Status = ShardStatus.NotReady };
        }
        var read = await Rsm.ReadAsync(() => State.ExportShards(pull.Num, pull.Shards), ct);
        if (!read.IsOk) return new ShardMoveReply { Status = ShardStatus.WrongServer };
        return read.Value is { } data ? new ShardMoveReply { Data = data } : new ShardMoveReply { Status = ShardStatus.NotReady };
    }

    public async Task<ShardMoveReply> DeleteAsync(ShardMoveRequest delete, CancellationToken ct)
    {
        if (!Rsm.IsLeader) return new ShardMoveReply { Status = ShardStatus.WrongServer };
        var proposals = State.Offered(delete.Num, delete.Shards).Select(s => Rsm.SubmitAsync(GroupCommand.Delete(delete.Num, s), ct)).ToList();
        foreach (var submitted in await InOrder.AwaitAll(proposals))
            if (!submitted.IsOk && submitted.DefinitelyNotApplied) return new ShardMoveReply { Status = ShardStatus.WrongServer };
        // Answer from the state, not from the proposals: Ok only once every copy is gone (an unknown-outcome proposal
        // is settled by this read too).
        var read = await Rsm.ReadAsync(() => State.Released(delete.Num, delete.Shards), ct);
        if (!read.IsOk) return new ShardMoveReply { Status = ShardStatus.WrongServer };
        return new ShardMoveReply { Status = read.Value ? ShardStatus.Ok : ShardStatus.NotReady };
    }

    public async ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        var name = method[(method.IndexOf('/') + 1)..];
        return name switch
        {
            "get" => (await GetAsync(ShardKvRequest.Decode(request.Span), cancellationToken)).Encode(),
            "put" => (await PutAsync(ShardKvRequest.Decode(request.Span), cancellationToken)).Encode(),
            "pull" => (await PullAsync(ShardMoveRequest.Decode(request.Span), cancellationToken)).Encode(),
            "delete" => (await DeleteAsync(ShardMoveRequest.Decode(request.Span), cancellationToken)).Encode(),
            _ => throw new UnknownMethodException(method),
        };
    }

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        // No one-way messages.
    }
}
