using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flotilla.Server.Cluster;

/// <summary>
/// <c>cluster.json</c>: what <c>flotilla cluster start</c> writes so every other command can find the cluster.
/// <c>endpoints</c> is the list clients dial (what <c>--cluster FILE</c> reads); <c>members</c> adds ids, process ids,
/// data directories and the command line of each member for <c>flotilla cluster status|restart</c> and for tests.
/// <c>kind</c> says what sort of cluster it describes (absent in older files: <see cref="ClusterKinds.ReplicatedKv"/>).
/// </summary>
public sealed record ClusterFile
{
    [JsonPropertyName("kind")] public string Kind { get; init; } = ClusterKinds.ReplicatedKv;
    [JsonPropertyName("endpoints")] public required IReadOnlyList<string> Endpoints { get; init; }
    [JsonPropertyName("members")] public IReadOnlyList<ClusterMember> Members { get; init; } = [];
    /// <summary>The process that launched the members and supervises them (<c>flotilla cluster start</c>); 0 if unknown.</summary>
    [JsonPropertyName("supervisor")] public int SupervisorPid { get; init; }
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>The cluster id every member proves on peer connections (not secret).</summary>
    [JsonPropertyName("cluster_id")] public string? ClusterId { get; init; }
    /// <summary>The admin token's file, relative to this file's directory (mode 0600; never the token itself).</summary>
    [JsonPropertyName("admin_token_file")] public string? AdminTokenFile { get; init; }
    /// <summary>The group's bootstrap voters (what every member is started with, <c>--initial-voters</c>); empty in older files.</summary>
    [JsonPropertyName("initial_voters")] public IReadOnlyList<int> InitialVoters { get; init; } = [];
    /// <summary>The id the next added member gets: above every id ever used, removed members' included, so an id is
    /// never reused (a member that lost its disk comes back under a new id). 0 in older files: see <see cref="NextMemberId"/>.</summary>
    [JsonPropertyName("next_id")] public int NextId { get; init; }

    /// <summary>The id to give a new member: <see cref="NextId"/>, but never one a listed or initial member has.</summary>
    public int NextMemberId => Math.Max(NextId, Members.Select(m => m.Id).Concat(InitialVoters).DefaultIfEmpty(0).Max() + 1);

    private const long FileBytesMax = 1 << 20;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads and checks a cluster file. Every problem (missing, unreadable, too big, not JSON, wrong shape,
    /// unknown kind) is a <see cref="ClusterFileException"/> with a one-line message naming the file.</summary>
    public static ClusterFile Load(string path)
    {
        string text;
        try
        {
            if (Directory.Exists(path)) throw new ClusterFileException($"cluster file {path} is a directory");
            var info = new FileInfo(path);
            if (!info.Exists) throw new ClusterFileException($"cluster file not found: {path}");
            if (info.Length > FileBytesMax) throw new ClusterFileException($"cluster file {path} is over {FileBytesMax} bytes");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ClusterFileException($"cannot read cluster file {path}: {e.Message}", e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses cluster-file text: the object <c>cluster start</c> writes, or (older, hand-written) a plain array
    /// of endpoint strings. <paramref name="source"/> names it in errors.</summary>
    public static ClusterFile Parse(string text, string source)
    {
        ClusterFile? file;
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
                return Checked(new ClusterFile { Endpoints = root.Deserialize<List<string>>() ?? [] }, source);
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("endpoints", out _))
                throw new ClusterFileException($"cluster file {source}: expected {{\"endpoints\": [...], ...}} (as 'flotilla cluster start' writes) or a list of endpoints");
            file = root.Deserialize<ClusterFile>();
        }
        catch (JsonException e)
        {
            throw new ClusterFileException($"cluster file {source}: not a valid cluster file ({OneLine(e.Message)})", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or NotSupportedException)
        {
            throw new ClusterFileException($"cluster file {source}: not a valid cluster file ({OneLine(e.Message)})", e);
        }
        return Checked(file ?? throw new ClusterFileException($"cluster file {source}: empty"), source);
    }

    /// <summary>Refuses a file that describes another sort of cluster than the command works with.</summary>
    public ClusterFile RequireKind(string kind, string source) => Kind == kind
        ? this
        : throw new ClusterFileException($"cluster file {source} describes a {Show(Kind)} cluster; this command needs a {Show(kind)} cluster");

    private static ClusterFile Checked(ClusterFile file, string source)
    {
        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        void Bad(string what) => throw new ClusterFileException($"cluster file {source}: {what}");
        // JSON null for a property overrides its default; a missing kind is the original (replicated KV) kind.
        var kind = file.Kind ?? ClusterKinds.ReplicatedKv;
        if (!ClusterKinds.All.Contains(kind)) Bad($"unknown kind {Show(kind)} (known: {string.Join(", ", ClusterKinds.All)})");
        if (file.Endpoints is null || file.Endpoints.Count == 0) Bad("no endpoints");
        if (file.Endpoints.Any(e => string.IsNullOrWhiteSpace(e))) Bad("every endpoint must be a non-empty string");
        var members = file.Members ?? [];
        foreach (var m in members)
        {
            if (m is null) Bad("a member is null");
            if (m.Id <= 0) Bad($"member id {m.Id} is not a positive integer");
            if (string.IsNullOrWhiteSpace(m.Address)) Bad($"member {m.Id} has no address");
            if (m.Pid < 0) Bad($"member {m.Id} has a negative pid");
            if (m.Command is { } c && (c.Count == 0 || c.Any(a => a is null))) Bad($"member {m.Id}: command must be a non-empty list of strings");
        }
        if (members.Select(m => m.Id).Distinct().Count() != members.Count) Bad("two members have the same id");
        var initial = file.InitialVoters ?? [];
        if (initial.Any(v => v <= 0)) Bad("initial_voters must be positive ids");
        if (file.NextId < 0) Bad("next_id must not be negative");
        return file with { Kind = kind, Members = members, InitialVoters = initial };
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    /// <summary>A value from the file, quoted and escaped as JSON (so it cannot break the error line) and cut short.</summary>
    private static string Show(string value) => JsonSerializer.Serialize(value.Length > 40 ? value[..40] + "..." : value);
}

/// <summary>The sorts of cluster a <see cref="ClusterFile"/> can describe.</summary>
public static class ClusterKinds
{
    /// <summary>One Raft group running the replicated versioned KV (<c>flotilla server</c> members).</summary>
    public const string ReplicatedKv = "replicated-kv";

    /// <summary>A sharded KV store (<c>flotilla cluster start --groups G</c>): a controller group and data groups;
    /// <see cref="ShardedClusterFile"/> reads its extra fields.</summary>
    public const string ShardedKv = ShardedClusterFile.ShardedKind;

    public static IReadOnlyList<string> All { get; } = [ReplicatedKv, ShardedKv];
}

/// <summary>A cluster file that is missing, unreadable, malformed or of the wrong kind. The message is one line.</summary>
public sealed class ClusterFileException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record ClusterMember
{
    [JsonPropertyName("id")] public required int Id { get; init; }
    [JsonPropertyName("address")] public required string Address { get; init; }
    /// <summary>Where the member takes Raft traffic over framed TCP (<c>tcp://HOST:PORT</c>); null when peers use gRPC on <see cref="Address"/>.</summary>
    [JsonPropertyName("peer")] public string? PeerAddress { get; init; }
    /// <summary>Where the member serves the Admin service (status, shutdown): not on the client port.</summary>
    [JsonPropertyName("admin")] public string? AdminAddress { get; init; }
    /// <summary>Where the member serves its read-only web console (<c>http://HOST:PORT/</c>); null if it serves none.</summary>
    [JsonPropertyName("console")] public string? ConsoleAddress { get; init; }
    /// <summary>The member's current process (updated by <c>flotilla cluster restart</c>); 0 if not running.</summary>
    [JsonPropertyName("pid")] public int Pid { get; init; }
    [JsonPropertyName("data")] public string? DataDirectory { get; init; }
    [JsonPropertyName("log")] public string? LogFile { get; init; }
    /// <summary>The member's full command line (executable first), so <c>flotilla cluster restart</c> relaunches it
    /// exactly as <c>cluster start</c> did.</summary>
    [JsonPropertyName("command")] public IReadOnlyList<string>? Command { get; init; }
}
