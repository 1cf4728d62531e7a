using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flotilla.Server.Cluster;

/// <summary>
/// <c>cluster.json</c> of a sharded store (<c>flotilla cluster start --groups G</c>): <c>kind</c> is
/// <c>"sharded-kv"</c>; <c>endpoints</c> are the processes (each serves the controller and routes <c>flotilla.kv.v1</c>),
/// so every <c>--cluster FILE</c> option that only needs endpoints still works; <c>shards</c> and <c>groups</c> (gid ->
/// member endpoints, as joined to the controller) say how the store was created.
/// </summary>
public sealed record ShardedClusterFile
{
    public const string ShardedKind = "sharded-kv";

    /// <summary>The kind of a replicated KV cluster (<c>flotilla cluster start --nodes N</c>), also what a file without a kind is.</summary>
    public const string ReplicatedKind = "replicated-kv";

    [JsonPropertyName("kind")] public string Kind { get; init; } = ShardedKind;
    [JsonPropertyName("endpoints")] public required IReadOnlyList<string> Endpoints { get; init; }
    [JsonPropertyName("shards")] public required int Shards { get; init; }
    [JsonPropertyName("groups")] public required SortedDictionary<int, string[]> Groups { get; init; }
    [JsonPropertyName("members")] public required IReadOnlyList<ClusterMember> Members { get; init; }
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>As in <see cref="ClusterFile"/>: the supervising <c>cluster start</c>, the cluster id members prove on
    /// peer connections, and the admin token's file (relative to this file), so status/stop/restart work alike.</summary>
    [JsonPropertyName("supervisor")] public int SupervisorPid { get; init; }
    [JsonPropertyName("cluster_id")] public string? ClusterId { get; init; }
    [JsonPropertyName("admin_token_file")] public string? AdminTokenFile { get; init; }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The kind a cluster file declares: <c>"sharded-kv"</c>, <c>"replicated-kv"</c> (also for files written before
    /// kinds existed, which have none), or null when the file is not a JSON object.</summary>
    public static string? KindOf(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
            return document.RootElement.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String ? kind.GetString() : ReplicatedKind;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads a sharded cluster file; <see cref="InvalidDataException"/> when it is not one (another kind, bad JSON).</summary>
    public static ShardedClusterFile Load(string path)
    {
        var json = File.ReadAllText(path);
        var kind = KindOf(json) ?? throw new InvalidDataException($"{path}: not a cluster file");
        if (kind != ShardedKind) throw new InvalidDataException($"{path} describes a {kind} cluster, not a sharded one (start one with 'flotilla cluster start --groups G')");
        try
        {
            var file = JsonSerializer.Deserialize<ShardedClusterFile>(json) ?? throw new InvalidDataException($"{path}: empty");
            return file.Endpoints.Count > 0 && file.Shards > 0 ? file : throw new InvalidDataException($"{path}: a sharded cluster file needs endpoints and a shard count");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a sharded cluster file ({e.Message})", e);
        }
    }
}
