using System.Net;
using Flotilla.Kv.Client;
using Flotilla.Runtime;
using Flotilla.Server.Tests.Support;

namespace Flotilla.Server.Tests;

/// <summary>The server exports its metrics for Prometheus: commits, applies, elections (term), fsync latency.</summary>
public class MetricsTests
{
    [Fact]
    public async Task PrometheusEndpointServesRaftAndFsyncMetrics()
    {
        var (port, metricsPort) = (CliProcess.FreePort(), CliProcess.FreePort());
        var data = Path.Combine(Path.GetTempPath(), $"flotilla-metrics-{Guid.NewGuid():N}");
        var options = new ServerOptions
        {
            Id = new NodeId(1),
            Listen = new IPEndPoint(IPAddress.Loopback, port),
            Members = new Dictionary<NodeId, Uri> { [new NodeId(1)] = new($"http://127.0.0.1:{port}") },
            DataDirectory = data,
            MetricsListen = new IPEndPoint(IPAddress.Loopback, metricsPort),
        };
        await using (var server = await FlotillaServer.StartAsync(options, new KvServerApplication()))
        {
            // A single member elects itself and commits its no-op, which takes an fsync.
            Assert.True(await ClusterFixture.EventuallyAsync(async () => (await server.SnapshotAsync()).IsLeader, TimeSpan.FromSeconds(20)));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using var channel = new GrpcKvChannel([new Uri($"http://127.0.0.1:{port}")]);
            var client = new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(10) });
            string text = "";
            var puts = 0;
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                // The election's fsync can come before the metrics pipeline exists (a loaded machine starts the host
                // late), and a histogram only shows recorded values: each put fsyncs again, after it surely exists.
                // Its outcome does not matter here (a loaded machine may time it out): only that it makes the node write.
                await client.PutAsync($"k{puts++}", "v", 0);
                text = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
                return text.Contains("flotilla_raft_commit_index") && text.Contains("flotilla_fsync_duration");
            }, TimeSpan.FromSeconds(20)), text);
            Assert.Contains("flotilla_raft_term", text);
            Assert.Contains("flotilla_rsm_applied_index", text);
            Assert.Contains("flotilla_raft_is_leader", text);
        }
        Directory.Delete(data, recursive: true);
    }
}
