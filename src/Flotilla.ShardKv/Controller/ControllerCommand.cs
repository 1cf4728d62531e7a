using System.Text.Json.Serialization;

namespace Flotilla.ShardKv.Controller;

/// <summary>What the controller can be asked, as it travels through the log: one JSON object per command.
/// Configuration changes are rare and small, so a readable encoding costs nothing that matters.</summary>
public sealed record ControllerCommand
{
    [JsonPropertyName("op")] public required string Op { get; init; }
    /// <summary>Join: the new groups and their members' endpoints.</summary>
    [JsonPropertyName("groups")] public SortedDictionary<int, string[]>? Groups { get; init; }
    /// <summary>Leave: the departing groups.</summary>
    [JsonPropertyName("gids")] public int[]? Gids { get; init; }
    [JsonPropertyName("shard")] public int Shard { get; init; }
    [JsonPropertyName("gid")] public int Gid { get; init; }
    /// <summary>Query: the configuration number; -1 (or anything past the latest) means the latest.</summary>
    [JsonPropertyName("num")] public int Num { get; init; }

    public const string JoinOp = "join", LeaveOp = "leave", MoveOp = "move", QueryOp = "query";

    public static byte[] Join(IReadOnlyDictionary<int, string[]> groups) =>
        Encode(new ControllerCommand { Op = JoinOp, Groups = new SortedDictionary<int, string[]>(groups.ToDictionary(g => g.Key, g => g.Value)) });

    public static byte[] Leave(params int[] gids) => Encode(new ControllerCommand { Op = LeaveOp, Gids = gids });

    public static byte[] Move(int shard, int gid) => Encode(new ControllerCommand { Op = MoveOp, Shard = shard, Gid = gid });

    public static byte[] Query(int num = -1) => Encode(new ControllerCommand { Op = QueryOp, Num = num });

    private static byte[] Encode(ControllerCommand command) => LogJson.Write(command);

    /// <summary>Decodes a committed command; <see cref="InvalidDataException"/> on bytes no client of ours wrote.</summary>
    public static ControllerCommand Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<ControllerCommand>(bytes, "controller command");
}

public enum ControllerError
{
    Ok = 0,
    /// <summary>Join named a group that already exists.</summary>
    GroupExists = 1,
    /// <summary>Leave or Move named a group that does not exist.</summary>
    NoSuchGroup = 2,
    /// <summary>Move named a shard outside 0..S-1.</summary>
    NoSuchShard = 3,
    /// <summary>A group id must be positive, a group must have members, a request must name something.</summary>
    Invalid = 4,
    /// <summary>Query asked for a configuration number below -1.</summary>
    NoSuchConfig = 5,
    /// <summary>Leave would remove every group: the shards would belong to nobody and their data would have nowhere
    /// to go (a shard assigned again later would start empty). Refused; keep at least one group.</summary>
    LastGroup = 6,
    /// <summary>Not from the state machine: the replica asked cannot answer (not the leader); try another.</summary>
    NotLeader = 7,
}

/// <summary>The controller's answer: an error, or the configuration the command produced (or the one queried).</summary>
public sealed record ControllerReply
{
    [JsonPropertyName("error")] public ControllerError Error { get; init; }
    [JsonPropertyName("config")] public ShardConfigData? Config { get; init; }

    public byte[] Encode() => LogJson.Write(this);

    public static ControllerReply Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<ControllerReply>(bytes, "controller reply");
}

/// <summary>A <see cref="ShardConfig"/> as JSON (for replies and snapshots).</summary>
public sealed record ShardConfigData
{
    [JsonPropertyName("num")] public int Num { get; init; }
    [JsonPropertyName("shards")] public required int[] Shards { get; init; }
    [JsonPropertyName("groups")] public required SortedDictionary<int, string[]> Groups { get; init; }

    public static ShardConfigData From(ShardConfig config) => new()
    {
        Num = config.Num,
        Shards = [.. config.Shards],
        Groups = new SortedDictionary<int, string[]>(config.Groups.ToDictionary(g => g.Key, g => g.Value.ToArray())),
    };

    public ShardConfig ToConfig() =>
        new(Num, Shards.ToArray(), new SortedDictionary<int, IReadOnlyList<string>>(Groups.ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Value.ToArray())));
}
