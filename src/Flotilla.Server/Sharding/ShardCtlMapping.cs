using Flotilla.ShardCtl.Protos;
using Flotilla.ShardKv.Controller;

namespace Flotilla.Server.Sharding;

/// <summary>Between the controller's log types (<see cref="ShardConfigData"/>, <see cref="ControllerReply"/>) and the
/// published <c>flotilla.shardctl.v1</c> messages.</summary>
public static class ShardCtlMapping
{
    private static readonly (ControllerError Error, CtlStatus Status)[] Statuses =
    [
        (ControllerError.Ok, CtlStatus.Ok),
        (ControllerError.NotLeader, CtlStatus.WrongLeader),
        (ControllerError.GroupExists, CtlStatus.GroupExists),
        (ControllerError.NoSuchGroup, CtlStatus.NoSuchGroup),
        (ControllerError.NoSuchShard, CtlStatus.NoSuchShard),
        (ControllerError.Invalid, CtlStatus.Invalid),
        (ControllerError.NoSuchConfig, CtlStatus.NoSuchConfig),
        (ControllerError.LastGroup, CtlStatus.LastGroup),
    ];

    public static CtlReply ToProto(ControllerReply reply) => new()
    {
        Status = Statuses.FirstOrDefault(s => s.Error == reply.Error, (Error: reply.Error, Status: CtlStatus.Invalid)).Status,
        Config = reply.Config is { } config ? ToProto(config) : null,
    };

    /// <summary>A reply as the driver and client see it; UNKNOWN (no verdict) reads as not the leader: ask elsewhere.</summary>
    public static ControllerReply FromProto(CtlReply reply) => new()
    {
        Error = Statuses.FirstOrDefault(s => s.Status == reply.Status, (Error: ControllerError.NotLeader, Status: reply.Status)).Error,
        Config = reply.Config is { } config ? FromProto(config) : null,
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
