namespace Flotilla.Server.Sharding;

/// <summary>What a sharded <c>flotilla server</c> hosts: a replica of the controller group and of each data group in
/// <see cref="Gids"/>, all on one node (one listener, one peer transport, one data directory).</summary>
public sealed record ShardServerOptions
{
    /// <summary>The store's fixed shard count; every process of a store must be given the same one.</summary>
    public int ShardCount { get; init; } = 16;

    /// <summary>The data groups this process hosts a replica of (positive, distinct).</summary>
    public required IReadOnlyList<int> Gids { get; init; }

    /// <summary>Where the controller's replicas answer (every member's <c>http://host:port</c>): the group drivers
    /// poll it there for the next configuration.</summary>
    public IReadOnlyList<string> Controllers { get; init; } = [];

    /// <summary>The cluster's credentials: the group-to-group migration calls (<c>ShardGroup.Call</c>: pull, delete)
    /// must prove them (<see cref="Flotilla.Transport.Grpc.ClusterCallProof"/>) and the drivers' calls carry that proof.
    /// Null: those calls are not authenticated (<c>--insecure-peers</c>). <c>flotilla server</c> passes the
    /// <c>--cluster-secret-file</c> credentials (a lone member without one: credentials nobody else has).</summary>
    public Flotilla.Transport.Grpc.ClusterCredentials? Credentials { get; init; }

    public void Validate()
    {
        if (ShardCount is < 1 or > 1024) throw new ArgumentException($"a sharded store has 1 to 1024 shards, not {ShardCount}");
        if (Gids.Count is < 1 or > 16) throw new ArgumentException($"a process hosts 1 to 16 data groups, not {Gids.Count}");
        if (Gids.Any(g => g <= 0)) throw new ArgumentException("group ids are positive integers");
        if (Gids.Distinct().Count() != Gids.Count) throw new ArgumentException("a group id is listed twice");
        if (Controllers.Count == 0) throw new ArgumentException("the controller's endpoints are needed");
    }

    /// <summary>Parses "1,2,3" (group ids).</summary>
    public static IReadOnlyList<int> ParseGids(string text)
    {
        var gids = new List<int>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            gids.Add(int.TryParse(item, out var gid) && gid > 0 ? gid : throw new FormatException($"'{item}' is not a group id (a positive integer)"));
        return gids.Count > 0 ? gids : throw new FormatException("no group ids given");
    }
}
