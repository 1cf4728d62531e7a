using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>Starts a sharded store of real flotilla server processes (<see cref="ShardedLocalCluster"/>) in a fresh
/// temporary directory, and removes it all afterwards.</summary>
internal static class ShardedClusterFixture
{
    public static async Task<(ShardedLocalCluster Cluster, string Directory)> StartAsync(int groups, int nodes = 3, int shards = 16,
        IReadOnlyList<string>? serverArguments = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"flotilla-shard-test-{Guid.NewGuid():N}");
        var cluster = await ShardedLocalCluster.StartAsync(new ShardedLocalClusterOptions
        {
            Nodes = nodes,
            Groups = groups,
            Shards = shards,
            Directory = directory,
            Flotilla = SelfInvocation.Current(),
            ServerArguments = serverArguments ?? [],
        });
        return (cluster, directory);
    }

    public static async Task StopAsync(ShardedLocalCluster cluster, string directory)
    {
        await cluster.DisposeAsync();
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
    }
}
