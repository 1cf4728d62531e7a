using Flotilla.Kv.Protos;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Group;
using Flotilla.Transport.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flotilla.Server.Sharding;

/// <summary>
/// The sharded KV as a server application: on one node, a replica of the shard controller group (Raft group
/// <c>shardctl</c>) and of each data group in <see cref="ShardServerOptions.Gids"/> (Raft group <c>g&lt;gid&gt;</c>),
/// each with its own <c>raft.&lt;group&gt;</c> service and WAL under <c>raft/&lt;group&gt;/</c>. Public faces:
/// <c>flotilla.shardctl.v1.ShardCtl</c> (the controller), <c>flotilla.kv.v1.Kv</c> routed to whichever local group
/// owns the key's shard (ERR_WRONG_GROUP when none does), and <c>flotilla.shardgroup.v1.ShardGroup</c> (group status
/// and the migration calls between groups). The status a <see cref="FlotillaServer"/> reports is the controller's.
/// </summary>
public sealed class ShardServerApplication(ShardServerOptions options) : IServerApplication
{
    private readonly SortedDictionary<int, ShardGroupReplica> _groups = new();
    private readonly List<IAsyncDisposable> _attachments = [];
    private ControllerReplica? _controller;
    private NodeContext? _context;

    /// <summary>The request header naming the group a Kv request is meant for (sent by the sharded client).</summary>
    public const string GidHeader = "flotilla-gid";

    public ShardServerOptions Options => options;

    public ControllerReplica Controller => _controller ?? throw new InvalidOperationException("not started");

    public IReadOnlyDictionary<int, ShardGroupReplica> Groups => _groups;

    public NodeContext Context => _context ?? throw new InvalidOperationException("not started");

    /// <summary>Called once per data group after every replica started (on the node's scheduler): attaches what runs
    /// beside a group (its leader's migration driver). The returned object is disposed before the replicas stop.</summary>
    public Func<ShardServerApplication, ShardGroupReplica, IAsyncDisposable?>? Attach { get; init; }

    /// <summary>Answers the migration calls other groups' leaders send here (<c>ShardGroup.Call</c>): (gid, method,
    /// payload) to the reply bytes, or null when unhandled. Set by the attached driver; runs on the node's scheduler.</summary>
    public Func<int, string, ReadOnlyMemory<byte>, CancellationToken, Task<ReadOnlyMemory<byte>?>>? CallHandler { get; set; }

    public async Task<ReplicatedStateMachine> StartAsync(NodeContext context, RsmOptions rsmOptions, CancellationToken cancellationToken)
    {
        options.Validate();
        _context = context;
        var controller = new ShardController(options.ShardCount);
        var controllerRsm = await ReplicatedStateMachine.StartAsync(context, For(rsmOptions, ShardServerOptions.ControllerGroupId), controller, cancellationToken);
        _controller = new ControllerReplica(controllerRsm, controller);
        foreach (var gid in options.Gids.Order())
        {
            var service = new ShardGroupService(gid, options.ShardCount);
            var rsm = await ReplicatedStateMachine.StartAsync(context, For(rsmOptions, ShardServerOptions.GroupId(gid)), service, cancellationToken);
            _groups[gid] = new ShardGroupReplica(gid, rsm, service);
        }
        foreach (var group in _groups.Values)
        {
            if (Attach?.Invoke(this, group) is { } attached) _attachments.Add(attached);
        }
        return controllerRsm;
    }

    private static RsmOptions For(RsmOptions options, string groupId) => options with { Raft = options.Raft with { GroupId = groupId } };

    public void MapApi(RealNodeHost host)
    {
        host.Builder.Services.AddSingleton(this);
        host.MapServices(app =>
        {
            app.MapGrpcService<ShardCtlGrpcService>();
            app.MapGrpcService<ShardedKvGrpcService>();
            app.MapGrpcService<ShardGroupGrpcService>();
        });
    }

    /// <summary>The local group to send a request for <paramref name="key"/> to: one whose replica here serves (or is
    /// about to serve) the key's shard, a leader first; null when no local group claims it (ERR_WRONG_GROUP).</summary>
    public ShardGroupReplica? Route(string key, int? gid = null)
    {
        if (gid is { } named && _groups.TryGetValue(named, out var hinted) && hinted.Claims(hinted.ShardOf(key))) return hinted;
        ShardGroupReplica? claimant = null;
        foreach (var group in _groups.Values)
        {
            if (!group.Claims(group.ShardOf(key))) continue;
            if (group.Rsm.IsLeader) return group;
            claimant ??= group;
        }
        return claimant;
    }

    public Task<GetReply> GetAsync(GetRequest get, int? gid, CancellationToken ct) =>
        Route(get.Key, gid) is { } group ? group.GetAsync(get, ct) : Task.FromResult(new GetReply { Error = KvError.ErrWrongGroup });

    public Task<PutReply> PutAsync(PutRequest put, int? gid, CancellationToken ct) =>
        Route(put.Key, gid) is { } group ? group.PutAsync(put, ct) : Task.FromResult(new PutReply { Error = KvError.ErrWrongGroup });

    public async Task StopAsync()
    {
        foreach (var attached in _attachments) await attached.DisposeAsync();
        _attachments.Clear();
        foreach (var group in _groups.Values) await group.Rsm.StopAsync();
        if (_controller is { } controller) await controller.Rsm.StopAsync();
    }
}
