using Flotilla.Kv;
using Flotilla.Kv.Protos;
using Flotilla.Kv.Server;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.ShardKv;
using Flotilla.ShardKv.Group;
using Flotilla.ShardKv.Rpc;
using Flotilla.ShardKv.Server;
using Flotilla.Transport.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flotilla.Server.Sharding;

/// <summary>
/// The sharded KV as a server application: on one node, a replica of the shard controller group
/// (<see cref="ShardControllerServer"/>, Raft group <c>ctrl</c>) and of each data group in
/// <see cref="ShardServerOptions.Gids"/> (<see cref="ShardGroupServer"/> with its leader's migration driver, Raft
/// group <c>&lt;gid&gt;</c>), each with its own <c>raft.&lt;group&gt;</c> service and WAL under
/// <c>raft/&lt;group&gt;/</c>. The drivers reach the controller and the other groups over the real network
/// (<see cref="GrpcShardChannel"/>). Public faces: <c>flotilla.shardctl.v1.ShardCtl</c> (the controller),
/// <c>flotilla.kv.v1.Kv</c> routed to whichever local group owns the key's shard (ERR_WRONG_GROUP when none does), and
/// <c>flotilla.shardgroup.v1.ShardGroup</c> (group status; pull and delete between groups). The status a
/// <see cref="FlotillaServer"/> reports is the controller replica's.
/// </summary>
public sealed class ShardServerApplication(ShardServerOptions options) : IServerApplication
{
    /// <summary>The request header naming the group a Kv request is meant for (sent by <see cref="GrpcShardChannel"/>).</summary>
    public const string GidHeader = GrpcShardChannel.GidHeader;

    private readonly SortedDictionary<int, ShardGroupServer> _groups = new();
    private readonly GrpcShardChannel _channel = new(options.Credentials);
    private ShardControllerServer? _controller;

    public ShardServerOptions Options => options;

    public ShardControllerServer Controller => _controller ?? throw new InvalidOperationException("not started");

    public IReadOnlyDictionary<int, ShardGroupServer> Groups => _groups;

    public string? OtherGroupsStorageProblem => _groups.Values.Select(g => g.Rsm.Raft.StorageProblem).FirstOrDefault(p => p is not null);

    public Exception? OtherGroupsStorageFailure => _groups.Values.Select(g => g.Rsm.Raft.StorageFailure).FirstOrDefault(f => f is not null);

    public async Task<ReplicatedStateMachine> StartAsync(NodeContext context, RsmOptions rsmOptions, CancellationToken cancellationToken)
    {
        options.Validate();
        _controller = await ShardControllerServer.StartAsync(context,
            rsmOptions with { Raft = rsmOptions.Raft with { GroupId = ShardControllerServer.GroupId } }, options.ShardCount, cancellationToken);
        foreach (var gid in options.Gids.Order())
        {
            _groups[gid] = await ShardGroupServer.StartAsync(context, new ShardGroupOptions
            {
                Gid = gid,
                ShardCount = options.ShardCount,
                Voters = rsmOptions.Raft.Voters,
                Controllers = options.Controllers,
                SnapshotThresholdBytes = rsmOptions.SnapshotThresholdBytes,
                Raft = rsmOptions.Raft,
            }, _channel, cancellationToken);
        }
        return _controller.Rsm;
    }

    public void MapApi(RealNodeHost host)
    {
        host.Builder.Services.AddSingleton(this);
        // A pull reply carries a whole shard: the KV client port's 1 MiB message cap (KvLimits.ClientPort) would leave
        // a larger shard stuck in Pulling forever. Group-to-group calls get the peer message limit instead, which is
        // also the most a shard's install entry can carry through Raft (docs/shardkv-design.md, "Limits").
        var groupMessageBytesMax = new GrpcTransportOptions().MaxMessageBytes;
        host.Builder.Services.AddGrpc().AddServiceOptions<ShardGroupGrpcService>(grpc =>
        {
            grpc.MaxReceiveMessageSize = groupMessageBytesMax;
            grpc.MaxSendMessageSize = groupMessageBytesMax;
        });
        host.Builder.Services.AddKvGrpcApi<ShardedKvGrpcService>();
        host.MapServices(app =>
        {
            app.MapGrpcService<ShardCtlGrpcService>();
            app.MapGrpcService<ShardedKvGrpcService>();
            app.MapGrpcService<ShardGroupGrpcService>();
        });
    }

    /// <summary>Whether this process's replica of <paramref name="group"/> believes the group owns
    /// <paramref name="shard"/> (serving it, or about to once pulled): a routing hint only; the group decides at the
    /// request's log position.</summary>
    private static bool Claims(ShardGroupServer group, int shard) =>
        group.State.Current.Shards[shard] == group.Gid || group.State.StateOf(shard) is not (ShardState.Absent or ShardState.Offering);

    /// <summary>The local group to send a request for <paramref name="key"/> to: the one the client named if it claims
    /// the key's shard, else a claiming leader, else any claimant; null when no local group claims it.</summary>
    public ShardGroupServer? Route(string key, int? gid = null)
    {
        var shard = ShardMap.ShardOf(key, options.ShardCount);
        if (gid is { } named && _groups.TryGetValue(named, out var hinted) && Claims(hinted, shard)) return hinted;
        ShardGroupServer? claimant = null;
        foreach (var group in _groups.Values)
        {
            if (!Claims(group, shard)) continue;
            if (group.Rsm.IsLeader) return group;
            claimant ??= group;
        }
        return claimant;
    }

    /// <summary>A get for the public Kv API (call on the node's scheduler).</summary>
    public async Task<GetReply> GetAsync(GetRequest get, int? gid, CancellationToken ct)
    {
        if (KvLimits.Validate(get) is { } why) throw new KvInvalidArgumentException(why);
        if (Route(get.Key, gid) is not { } group) return new GetReply { Error = KvError.ErrWrongGroup };
        var reply = await group.GetAsync(new ShardKvRequest { Key = get.Key }, ct);
        return reply.Status switch
        {
            ShardStatus.Ok => new GetReply { Error = reply.KvError, Value = reply.Value ?? "", Version = reply.Version },
            ShardStatus.WrongGroup => new GetReply { Error = KvError.ErrWrongGroup },
            _ => new GetReply { Error = KvError.ErrWrongServer },
        };
    }

    /// <summary>A put for the public Kv API; throws <see cref="ShardOutcomeUnknownException"/> (the call fails: no
    /// answer) when it may or may not have applied.</summary>
    public async Task<PutReply> PutAsync(PutRequest put, int? gid, CancellationToken ct)
    {
        if (KvLimits.Validate(put) is { } why) throw new KvInvalidArgumentException(why);
        if (Route(put.Key, gid) is not { } group) return new PutReply { Error = KvError.ErrWrongGroup };
        var reply = await group.PutAsync(new ShardKvRequest { Key = put.Key, Value = put.Value, Version = put.Version }, ct);
        return reply.Status switch
        {
            ShardStatus.Ok => new PutReply { Error = reply.KvError },
            ShardStatus.WrongGroup => new PutReply { Error = KvError.ErrWrongGroup },
            _ => new PutReply { Error = KvError.ErrWrongServer },
        };
    }

    public async Task StopAsync()
    {
        foreach (var group in _groups.Values) await group.StopAsync();
        if (_controller is { } controller) await controller.StopAsync();
        _channel.Dispose();
    }
}
