using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>Starts a local cluster of real flotilla server processes (the CLI's dll, from this test's output folder)
/// in a fresh temporary directory, and removes it all afterwards.</summary>
internal static class ClusterFixture
{
    public static async Task<(LocalCluster Cluster, string Directory)> StartAsync(int nodes, IReadOnlyList<string>? serverArguments = null,
        Flotilla.Transport.Grpc.PeerProtocol peerProtocol = Flotilla.Transport.Grpc.PeerProtocol.Tcp)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"flotilla-test-{Guid.NewGuid():N}");
        var cluster = await LocalCluster.StartAsync(new LocalClusterOptions
        {
            Nodes = nodes,
            Directory = directory,
            Flotilla = SelfInvocation.Current(),
            ServerArguments = serverArguments ?? [],
            PeerProtocol = peerProtocol,
        });
        return (cluster, directory);
    }

    public static async Task StopAsync(LocalCluster cluster, string directory)
    {
        await cluster.DisposeAsync();
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return await condition();
    }

    public static async Task<int?> LeaderAsync(LocalCluster cluster)
    {
        var statuses = await cluster.StatusAsync(TimeSpan.FromSeconds(1));
        return statuses.Values.FirstOrDefault(s => s?.Role == "Leader")?.Id;
    }
}
