using Flotilla.ShardCtl.Protos;
using Flotilla.ShardKv.Controller;

namespace Flotilla.Server.Sharding;

/// <summary>Between the controller's log types (<see cref="ShardConfigData"/>, <see cref="ControllerReply"/>) and the
/// published <c>flotilla.shardctl.v1</c> messages.</summary>
public static class ShardCtlMapping
{
    public static CtlReply ToProto(ControllerReply reply) => new()
    {
        Status = reply.Error switch
        {
            ControllerError.Ok => CtlStatus.Ok,
            ControllerError.GroupExists => CtlStatus.GroupExists,
            ControllerError.NoSuchGroup => CtlStatus.NoSuchGroup,
            ControllerError.NoSuchShard => CtlStatus.NoSuchShard,
            ControllerError.NoSuchConfig => CtlStatus.NoSuchConfig,
            _ => CtlStatus.Invalid,
        },
        Config = reply.Config is { } config ? ToProto(config) : null,
    };

    public static Config ToProto(ShardConfigData config)
    {
        var proto = new Config { Num = config.Num };
        proto.Shards.AddRange(config.Shards);
        foreach (var (gid, endpoints) in config.Groups) proto.Groups[gid] = Members(endpoints);
        return proto;
    }

    public static ShardConfigData FromProto(Config config) => new()
    {
        Num = config.Num,
        Shards = [.. config.Shards],
        Groups = new SortedDictionary<int, string[]>(config.Groups.ToDictionary(g => g.Key, g => g.Value.Endpoints.ToArray())),
    };

    public static GroupMembers Members(IEnumerable<string> endpoints)
    {
        var members = new GroupMembers();
        members.Endpoints.AddRange(endpoints);
        return members;
    }
}
