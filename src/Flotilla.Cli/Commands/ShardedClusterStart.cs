using System.CommandLine;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;
using Flotilla.Transport.Grpc;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla cluster start --groups G</c>: a sharded store instead of one replicated group (see
/// <see cref="ShardedLocalCluster"/> for the process layout).</summary>
internal static class ShardedClusterStart
{
    private static readonly Option<int?> Groups = new("--groups")
    {
        Description = "Start a sharded KV with this many replica groups (1 to 16): every process hosts a replica of the shard controller and of each group.",
    };

    private static readonly Option<int> Shards = new("--shards")
    {
        Description = "With --groups: the store's shard count (1 to 1024).",
        DefaultValueFactory = _ => 16,
    };

    public static void AddTo(Command command)
    {
        command.Options.Add(Groups);
        command.Options.Add(Shards);
    }

    public static bool Requested(ParseResult parse) => parse.GetValue(Groups) is not null;

    public static async Task<int> RunAsync(ParseResult parse, int nodes, string directory, int basePort, IReadOnlyList<string> serverArguments,
        PeerProtocol protocol, CancellationToken ct)
    {
        var groups = parse.GetValue(Groups)!.Value;
        var shards = parse.GetValue(Shards);
        if (groups is < 1 or > 16) throw new CliException("--groups must be between 1 and 16", ExitCodes.Usage);
        if (shards is < 1 or > 1024) throw new CliException("--shards must be between 1 and 1024", ExitCodes.Usage);
        var output = parse.InvocationConfiguration.Output;
        await using var cluster = await StartAsync(new ShardedLocalClusterOptions
        {
            Nodes = nodes,
            Groups = groups,
            Shards = shards,
            Directory = directory,
            BasePort = basePort,
            Flotilla = SelfInvocation.Current(),
            PeerProtocol = protocol,
            ServerArguments = serverArguments,
        }, ct);
        output.WriteLine($"Started a sharded store: {groups} group(s) over {shards} shards, {nodes} processes (each hosts a replica of the controller and of every group):");
        foreach (var member in cluster.File.Members)
            output.WriteLine($"  n{member.Id}  {member.Address}  pid {member.Pid}  data {member.DataDirectory}");
        output.WriteLine($"Cluster file: {cluster.ClusterFilePath}");
        output.WriteLine($"console: {cluster.Processes.ConsoleUrl}");
        output.WriteLine($"Try:  flotilla kv put greeting hello --version 0 --cluster {cluster.ClusterFilePath}");
        output.WriteLine($"      flotilla shard status --cluster {cluster.ClusterFilePath}");
        return await ClusterCommand.SuperviseAsync(output, cluster.Processes.WhenAllExitedAsync, () => cluster.StopAsync(), ct);
    }

    internal static async Task<ShardedLocalCluster> StartAsync(ShardedLocalClusterOptions options, CancellationToken ct)
    {
        try
        {
            return await ShardedLocalCluster.StartAsync(options, ct);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new CliException($"the sharded cluster did not start: {e.Message}", ExitCodes.Failure, e);
        }
    }
}
