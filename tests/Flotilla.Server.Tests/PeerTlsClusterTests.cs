using Flotilla.Kv.Client;
using Flotilla.Transport.Grpc.Tests;

namespace Flotilla.Server.Tests;

/// <summary>A real 3-member cluster whose members talk framed TCP over mutual TLS (--peer-tls-* from PEM files).</summary>
public sealed class PeerTlsClusterTests
{
    [Fact]
    public async Task MembersWithPeerTlsElectALeaderAndReplicateWrites()
    {
        var pem = Path.Combine(Path.GetTempPath(), $"flotilla-peer-tls-{Guid.NewGuid():N}");
        var (cert, key, ca) = new TestCertificates().WritePem(pem);
        var (cluster, directory) = await ClusterFixture.StartAsync(3, ["--peer-tls-cert", cert, "--peer-tls-key", key, "--peer-tls-ca", ca]);
        try
        {
            Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) is not null, TimeSpan.FromSeconds(30)));
            using var channel = new GrpcKvChannel(cluster.File.Endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList());
            var client = new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(30) });

            Assert.True((await client.PutAsync("sealed", "between peers", 0)).IsOk);

            // Committed means a majority stored it, which took at least one member reached over TLS.
            var statuses = await cluster.StatusAsync(TimeSpan.FromSeconds(5));
            Assert.True(statuses.Values.Count(s => s is { CommitIndex: > 1 }) >= 2, string.Join("; ", statuses.Values));
            Assert.DoesNotContain("TLS failed", string.Concat(cluster.MemberIds.Select(id => File.ReadAllText(cluster.LogFile(id)))));
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
            Directory.Delete(pem, recursive: true);
        }
    }
}
