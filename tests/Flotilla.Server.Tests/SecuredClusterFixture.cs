using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>One 3-member cluster (framed-TCP peers) shared by the security tests, none of which may change it.</summary>
public sealed class SecuredClusterFixture : IAsyncLifetime
{
    private string _directory = "";

    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (Cluster, _directory) = await ClusterFixture.StartAsync(3);
        if (!await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(Cluster) is not null, TimeSpan.FromSeconds(30)))
            throw new TimeoutException("the secured cluster elected no leader");
    }

    public Task DisposeAsync() => ClusterFixture.StopAsync(Cluster, _directory);
}
