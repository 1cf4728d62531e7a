using System.Text.Json.Serialization;

namespace Flotilla.ShardKv.Group;

/// <summary>
/// One page of a frozen shard, as the previous owner exports it and the new owner installs it: the keys after
/// <see cref="After"/> in ordinal order, up to a byte budget (at least one key), encoded like a
/// <see cref="Flotilla.Kv.StateMachine.KvStateMachine"/> snapshot (keys, values, versions). Pages are cut from a copy
/// that no put can change any more, so every replica of the old owner cuts the same page for the same cursor.
/// </summary>
public sealed record ShardPage
{
    /// <summary>The cursor the page starts after; null for the first page.</summary>
    [JsonPropertyName("after")] public string? After { get; init; }
    /// <summary>The page's last key: the next page's <see cref="After"/> (equals <see cref="After"/> when empty).</summary>
    [JsonPropertyName("last")] public string? Last { get; init; }
    /// <summary>No key follows this page.</summary>
    [JsonPropertyName("final")] public bool Final { get; init; }
    [JsonPropertyName("data")] public required byte[] Data { get; init; }
}
