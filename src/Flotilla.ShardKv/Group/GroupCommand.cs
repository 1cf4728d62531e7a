using System.Text.Json.Serialization;
using Flotilla.ShardKv.Controller;

namespace Flotilla.ShardKv.Group;

/// <summary>A replica group's log command, one JSON object: a client put, the next configuration, a pulled shard's
/// data, the new owner's go-ahead that lets the old owner delete a shard, or the old owner's confirmation that it did.</summary>
public sealed record GroupCommand
{
    [JsonPropertyName("op")] public required string Op { get; init; }
    [JsonPropertyName("key")] public string? Key { get; init; }
    [JsonPropertyName("value")] public string? Value { get; init; }
    [JsonPropertyName("version")] public ulong Version { get; init; }
    [JsonPropertyName("config")] public ShardConfigData? Config { get; init; }
    /// <summary>Install/Delete: the configuration whose move this completes.</summary>
    [JsonPropertyName("num")] public int Num { get; init; }
    [JsonPropertyName("shard")] public int Shard { get; init; }
    /// <summary>Install: the shard's data (a <see cref="Flotilla.Kv.StateMachine.KvStateMachine"/> snapshot); chunk:
    /// one page of it (the same encoding, only the page's keys).</summary>
    [JsonPropertyName("data")] public byte[]? Data { get; init; }
    /// <summary>Chunk: the key cursor the page starts after (null: the first page). Applied only when it equals the
    /// cursor already applied, which makes duplicate, reordered and stale pages no-ops.</summary>
    [JsonPropertyName("after")] public string? After { get; init; }
    /// <summary>Chunk: the page's last key (the cursor once applied; equals <see cref="After"/> for an empty page).</summary>
    [JsonPropertyName("last")] public string? Last { get; init; }
    /// <summary>Chunk: the shard's last page; applying it installs the whole shard (served from then on).</summary>
    [JsonPropertyName("final")] public bool Final { get; init; }

    public const string PutOp = "put", ConfigOp = "config", InstallOp = "install", ChunkOp = "chunk", DeleteOp = "delete", ConfirmOp = "confirm";

    public static byte[] Put(string key, string value, ulong version) => Encode(new GroupCommand { Op = PutOp, Key = key, Value = value, Version = version });

    public static byte[] NextConfig(ShardConfig config) => Encode(new GroupCommand { Op = ConfigOp, Config = ShardConfigData.From(config) });

    public static byte[] Install(int num, int shard, byte[] data) => Encode(new GroupCommand { Op = InstallOp, Num = num, Shard = shard, Data = data });

    /// <summary>One page of a shard being pulled in configuration <paramref name="num"/> (docs/shardkv-design.md, "Chunked pulls").</summary>
    public static byte[] Chunk(int num, int shard, ShardPage page) =>
        Encode(new GroupCommand { Op = ChunkOp, Num = num, Shard = shard, After = page.After, Last = page.Last, Final = page.Final, Data = page.Data });

    public static byte[] Delete(int num, int shard) => Encode(new GroupCommand { Op = DeleteOp, Num = num, Shard = shard });

    /// <summary>The previous owner deleted its copy of a shard this group installed in configuration <paramref name="num"/>.</summary>
    public static byte[] Confirm(int num, int shard) => Encode(new GroupCommand { Op = ConfirmOp, Num = num, Shard = shard });

    private static byte[] Encode(GroupCommand command) => LogJson.Write(command);

    public static GroupCommand Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<GroupCommand>(bytes, "group command");
}

public enum GroupStatus
{
    /// <summary>Applied (for a put, <see cref="GroupReply.KvError"/> says how).</summary>
    Ok = 0,
    /// <summary>This group does not serve the key's shard right now (not ours, or still being pulled): ask the
    /// controller for the latest configuration and retry. Nothing was applied.</summary>
    WrongGroup = 1,
    /// <summary>A configuration, install or delete that does not fit the current state (stale, duplicate, out of
    /// order); nothing changed. The group's leader simply moves on.</summary>
    Ignored = 2,
}

public sealed record GroupReply
{
    [JsonPropertyName("status")] public GroupStatus Status { get; init; }
    [JsonPropertyName("kv")] public Flotilla.Kv.Protos.KvError KvError { get; init; }

    public byte[] Encode() => LogJson.Write(this);

    public static GroupReply Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<GroupReply>(bytes, "group reply");
}
