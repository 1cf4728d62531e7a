using Flotilla.Kv;
using Flotilla.Kv.Protos;
using Flotilla.Kv.Replicated;
using Flotilla.Kv.Server;
using Flotilla.Rsm;
using Flotilla.ShardKv;
using Flotilla.ShardKv.Group;
using Google.Protobuf;

namespace Flotilla.Server.Sharding;

/// <summary>
/// This process's replica of one data group: the <see cref="ShardGroupService"/> on its own RSM (Raft group
/// <c>g&lt;gid&gt;</c>), with typed Get/Put in the <c>flotilla.kv.v1</c> messages. The same rules as the replicated KV
/// (<see cref="ReplicatedKvServer"/>): ERR_WRONG_SERVER only when nothing was or will be applied, a thrown
/// <see cref="KvOutcomeUnknownException"/> when a put may yet apply; plus ERR_WRONG_GROUP when the group does not serve
/// the key's shard at the log position the request was ordered at. Call on the node's scheduler.
/// </summary>
public sealed class ShardGroupReplica(int gid, ReplicatedStateMachine rsm, ShardGroupService service)
{
    public int Gid => gid;

    public ReplicatedStateMachine Rsm => rsm;

    public ShardGroupService Service => service;

    /// <summary>Whether this replica believes its group owns <paramref name="shard"/> (serving it, or about to once it
    /// is pulled): a routing hint only; the group decides at the request's log position.</summary>
    public bool Claims(int shard) => service.Current.Shards[shard] == gid || service.StateOf(shard) is not (ShardState.Absent or ShardState.Offering);

    public async Task<GetReply> GetAsync(GetRequest get, CancellationToken ct)
    {
        if (KvLimits.Validate(get) is { } why) throw new KvInvalidArgumentException(why);
        var read = await rsm.ReadAsync(() => service.Get(get.Key), ct);
        if (!read.IsOk) return new GetReply { Error = KvError.ErrWrongServer };
        return read.Value ?? new GetReply { Error = KvError.ErrWrongGroup };
    }

    public async Task<PutReply> PutAsync(PutRequest put, CancellationToken ct)
    {
        if (KvLimits.Validate(put) is { } why) throw new KvInvalidArgumentException(why);
        var submitted = await rsm.SubmitAsync(GroupCommand.Put(put.Key, put.Value, put.Version), ct);
        if (submitted.IsOk)
        {
            var reply = GroupReply.Decode(submitted.Result.Span);
            return new PutReply { Error = reply.Status == GroupStatus.WrongGroup ? KvError.ErrWrongGroup : reply.KvError };
        }
        if (submitted.DefinitelyNotApplied) return new PutReply { Error = KvError.ErrWrongServer };
        throw new KvOutcomeUnknownException(submitted.Status);
    }

    /// <summary>Which shard a key is in, for this store.</summary>
    public int ShardOf(string key) => ShardMap.ShardOf(key, service.ShardCount);
}
