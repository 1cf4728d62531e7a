using System.Text.Json.Serialization;

namespace Flotilla.ShardKv.Rpc;

/// <summary>How a replica group answered a request. Everything except an answer from the state machine tells the
/// caller that nothing was applied, so retrying elsewhere (or later) is always safe.</summary>
public enum ShardStatus
{
    /// <summary>Served; the reply's other fields say how.</summary>
    Ok = 0,
    /// <summary>This replica cannot serve (not the leader, or it lost leadership before proposing): try another
    /// member of the group. Nothing was applied.</summary>
    WrongServer = 1,
    /// <summary>The group does not serve the key's shard now (not its shard, or still being pulled): refresh the
    /// configuration and retry. Nothing was applied.</summary>
    WrongGroup = 2,
    /// <summary>A migration request the group cannot answer yet (it has not reached that configuration): retry later.</summary>
    NotReady = 3,
}

/// <summary>A client's get or put for one group (<c>shardkv.&lt;gid&gt;/get</c>, <c>/put</c>).</summary>
public sealed record ShardKvRequest
{
    [JsonPropertyName("key")] public required string Key { get; init; }
    [JsonPropertyName("value")] public string? Value { get; init; }
    [JsonPropertyName("version")] public ulong Version { get; init; }

    public byte[] Encode() => LogJson.Write(this);
    public static ShardKvRequest Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<ShardKvRequest>(bytes, "shard KV request");
}

/// <summary>The group's answer to a get or put: <see cref="Status"/>, and when Ok the KV's own answer
/// (<see cref="Flotilla.Kv.Protos.KvError"/>: Ok, ErrNoKey, ErrVersion) with the value and version read.</summary>
public sealed record ShardKvReply
{
    [JsonPropertyName("status")] public ShardStatus Status { get; init; }
    [JsonPropertyName("kv")] public Flotilla.Kv.Protos.KvError KvError { get; init; }
    [JsonPropertyName("value")] public string? Value { get; init; }
    [JsonPropertyName("version")] public ulong Version { get; init; }
    /// <summary>With <see cref="ShardStatus.WrongServer"/>: the endpoint of the member this replica believes leads the
    /// group (as configurations name it), when it knows; the client tries it next.</summary>
    [JsonPropertyName("leader")] public string? Leader { get; init; }

    public byte[] Encode() => LogJson.Write(this);
    public static ShardKvReply Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<ShardKvReply>(bytes, "shard KV reply");
}

/// <summary>The migration requests between groups: <c>pull</c> (the new owner asks for the shards it gained in
/// configuration <see cref="Num"/>) and <c>delete</c> (the new owner installed them; the old owner may drop its copy).</summary>
public sealed record ShardMoveRequest
{
    [JsonPropertyName("num")] public int Num { get; init; }
    [JsonPropertyName("shards")] public required int[] Shards { get; init; }
    /// <summary>Pull in pages: when positive, <see cref="Shards"/> names one shard and the reply carries its next page
    /// of about this many bytes, the keys after <see cref="After"/>; 0: every requested shard whole (one message).</summary>
    [JsonPropertyName("pageBytes")] public int PageBytes { get; init; }
    [JsonPropertyName("after")] public string? After { get; init; }

    public byte[] Encode() => LogJson.Write(this);
    public static ShardMoveRequest Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<ShardMoveRequest>(bytes, "shard move request");
}

/// <summary>The answer to pull (Ok with every requested shard's data, or with one page of one shard) or delete (Ok once every copy is gone).</summary>
public sealed record ShardMoveReply
{
    [JsonPropertyName("status")] public ShardStatus Status { get; init; }
    /// <summary>Pull: shard -> its data (a KvStateMachine snapshot: keys, values, versions).</summary>
    [JsonPropertyName("data")] public SortedDictionary<int, byte[]>? Data { get; init; }
    /// <summary>A paged pull: the requested page.</summary>
    [JsonPropertyName("page")] public Group.ShardPage? Page { get; init; }

    public byte[] Encode() => LogJson.Write(this);
    public static ShardMoveReply Decode(ReadOnlySpan<byte> bytes) => LogJson.Read<ShardMoveReply>(bytes, "shard move reply");
}
