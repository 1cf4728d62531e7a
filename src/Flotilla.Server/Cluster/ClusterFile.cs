using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flotilla.Server.Cluster;

/// <summary>
/// <c>cluster.json</c>: what <c>flotilla cluster start</c> writes so every other command can find the cluster.
/// <c>endpoints</c> is the list clients dial (what <c>--cluster FILE</c> reads); <c>members</c> adds ids, process ids
/// and data directories for <c>flotilla cluster status</c> and for tests.
/// </summary>
public sealed record ClusterFile
{
    [JsonPropertyName("endpoints")] public required IReadOnlyList<string> Endpoints { get; init; }
    [JsonPropertyName("members")] public required IReadOnlyList<ClusterMember> Members { get; init; }
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>The cluster id every member proves on peer connections (not secret).</summary>
    [JsonPropertyName("cluster_id")] public string? ClusterId { get; init; }
    /// <summary>The admin token's file, relative to this file's directory (mode 0600; never the token itself).</summary>
    [JsonPropertyName("admin_token_file")] public string? AdminTokenFile { get; init; }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }

    public static ClusterFile Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ClusterFile>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a cluster file ({e.Message})", e);
        }
    }
}

public sealed record ClusterMember
{
    [JsonPropertyName("id")] public required int Id { get; init; }
    [JsonPropertyName("address")] public required string Address { get; init; }
    /// <summary>Where the member takes Raft traffic over framed TCP (<c>tcp://HOST:PORT</c>); null when peers use gRPC on <see cref="Address"/>.</summary>
    [JsonPropertyName("peer")] public string? PeerAddress { get; init; }
    /// <summary>Where the member serves the Admin service (status, shutdown): not on the client port.</summary>
    [JsonPropertyName("admin")] public string? AdminAddress { get; init; }
    [JsonPropertyName("pid")] public int Pid { get; init; }
    [JsonPropertyName("data")] public string? DataDirectory { get; init; }
    [JsonPropertyName("log")] public string? LogFile { get; init; }
}
