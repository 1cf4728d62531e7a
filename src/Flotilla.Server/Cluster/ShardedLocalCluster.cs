using Flotilla.Server.Sharding;
using Flotilla.ShardCtl.Protos;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server.Cluster;

public sealed record ShardedLocalClusterOptions
{
    /// <summary>Processes; each hosts one replica of the controller and of every data group.</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Data groups, gids 1..Groups.</summary>
    public required int Groups { get; init; }

    public int Shards { get; init; } = 16;

    public required string Directory { get; init; }

    public required FlotillaInvocation Flotilla { get; init; }

    public int BasePort { get; init; }

    public PeerProtocol PeerProtocol { get; init; } = PeerProtocol.Tcp;

    /// <summary>Extra arguments for every <c>flotilla server</c>.</summary>
    public IReadOnlyList<string> ServerArguments { get; init; } = [];

    /// <summary>How long to wait for the processes to answer and the controller to accept the groups.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// A sharded store on loopback, as <c>flotilla cluster start --groups G</c> and the real-process tests run it. Layout
/// (the simplest one): <see cref="ShardedLocalClusterOptions.Nodes"/> <c>flotilla server --shard-groups 1,..,G</c>
/// processes, each hosting one replica of the controller group and of every data group on one node (one listener,
/// one peer transport, WALs under node-N/raft/&lt;group&gt;/). Once the controller has a leader, the G groups are
/// joined (each with every process as member) and DIR/cluster.json is written with <c>"kind": "sharded-kv"</c>.
/// </summary>
public sealed class ShardedLocalCluster : IAsyncDisposable
{
    private readonly ShardedLocalClusterOptions _options;

    private ShardedLocalCluster(ShardedLocalClusterOptions options, LocalCluster processes)
    {
        _options = options;
        Processes = processes;
        // A relaunched process (tests, kill -9 recovery) must not turn cluster.json back into a replicated cluster's.
        processes.SaveClusterFile = () => File.Save(ClusterFilePath);
    }

    /// <summary>The processes (kill, relaunch, status).</summary>
    public LocalCluster Processes { get; }

    public string ClusterFilePath => Processes.ClusterFilePath;

    public IReadOnlyList<int> Gids => Enumerable.Range(1, _options.Groups).ToList();

    public ShardedClusterFile File
    {
        get
        {
            var processes = Processes.File;
            return new ShardedClusterFile
            {
                Endpoints = processes.Endpoints,
                Shards = _options.Shards,
                Groups = new SortedDictionary<int, string[]>(Gids.ToDictionary(g => g, _ => processes.Endpoints.ToArray())),
                Members = processes.Members,
                SupervisorPid = processes.SupervisorPid,
                ClusterId = processes.ClusterId,
                AdminTokenFile = processes.AdminTokenFile,
            };
        }
    }

    public static async Task<ShardedLocalCluster> StartAsync(ShardedLocalClusterOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Groups is < 1 or > 16) throw new ArgumentException($"a local sharded cluster has 1 to 16 groups, not {options.Groups}");
        if (options.Shards is < 1 or > 1024) throw new ArgumentException($"a sharded store has 1 to 1024 shards, not {options.Shards}");
        var gids = string.Join(",", Enumerable.Range(1, options.Groups));
        var processes = await LocalCluster.StartAsync(new LocalClusterOptions
        {
            Nodes = options.Nodes,
            Directory = options.Directory,
            Flotilla = options.Flotilla,
            BasePort = options.BasePort,
            PeerProtocol = options.PeerProtocol,
            ReadyTimeout = options.ReadyTimeout,
            ServerArguments = ["--shard-groups", gids, "--shards", options.Shards.ToString(), .. options.ServerArguments],
        }, cancellationToken);
        var cluster = new ShardedLocalCluster(options, processes);
        try
        {
            await cluster.JoinGroupsAsync(cancellationToken);
            cluster.File.Save(cluster.ClusterFilePath);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A controller client over every process, with the cluster's admin token (Join/Leave/Move need it).</summary>
    public ShardCtlClient Controller()
    {
        var file = Processes.File;
        var token = file.AdminTokenFile is { } name ? Transport.Grpc.SecretFile.ReadText(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(ClusterFilePath))!, name)) : null;
        return new ShardCtlClient(file.Endpoints.Select(e => new Uri(e)).ToList(), token);
    }

    private async Task JoinGroupsAsync(CancellationToken ct)
    {
        using var controller = Controller();
        var groups = File.Groups.ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Value);
        var joined = await controller.JoinAsync(groups, _options.ReadyTimeout, ct);
        if (joined.IsOk) return;
        // Already joined: a restart on an existing directory, or our own earlier attempt that went unanswered.
        if (joined.Status == CtlStatus.GroupExists)
        {
            var latest = await controller.QueryAsync(-1, _options.ReadyTimeout, ct);
            if (latest.Config is { } config && Gids.All(config.Groups.ContainsKey)) return;
        }
        throw new InvalidOperationException($"the controller did not accept groups {string.Join(",", Gids)}: {joined.Status} {joined.Error}");
    }

    public Task StopAsync(TimeSpan? grace = null) => Processes.StopAsync(grace);

    public ValueTask DisposeAsync() => Processes.DisposeAsync();
}
