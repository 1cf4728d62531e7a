using System.Text.Json;
using Flotilla.Cli.Commands;
using Flotilla.Kv.Client;
using Flotilla.Server.Cluster;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server.Tests;

public class ClusterCommandTests
{
    [Theory]
    [InlineData(PeerProtocol.Tcp)]
    [InlineData(PeerProtocol.Grpc)]
    public async Task StatusShowsEveryMemberWithExactlyOneLeaderAndStopStopsThem(PeerProtocol peers)
    {
        // A small snapshot threshold, so that the writes below make every member snapshot and trim its log.
        var (cluster, directory) = await ClusterFixture.StartAsync(3, ["--snapshot-threshold", "4096"], peers);
        try
        {
            // cluster.json says where each member takes Raft traffic: its own TCP port, or (gRPC) nowhere extra.
            var saved = ClusterFile.Load(cluster.ClusterFilePath);
            if (peers == PeerProtocol.Tcp)
            {
                Assert.All(saved.Members, m => Assert.StartsWith("tcp://127.0.0.1:", m.PeerAddress));
                // Six different ports: a client port and a peer port per member.
                Assert.Equal(6, saved.Members.SelectMany(m => new[] { new Uri(m.PeerAddress!).Port, new Uri(m.Address).Port }).Distinct().Count());
            }
            else
            {
                Assert.All(saved.Members, m => Assert.Null(m.PeerAddress));
            }
            Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) is not null, TimeSpan.FromSeconds(20)));
            using (var channel = new GrpcKvChannel(cluster.File.Endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList()))
            {
                var client = new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(30) });
                // Each put names the version it reads first: a retried put that was applied comes back ErrMaybe
                // (an election under load is enough), and the next put of that key must not then fail on a guessed version.
                for (var i = 0; i < 200; i++)
                {
                    var key = $"k{i % 20}";
                    var read = await client.GetAsync(key);
                    Assert.True(read.IsOk || read.Status == KvStatus.ErrNoKey, $"get {key}: {read}");
                    var put = await client.PutAsync(key, new string('v', 100), read.IsOk ? read.Version : 0);
                    Assert.True(put.IsOk || put.Status == KvStatus.ErrMaybe, $"put {i} of {key}: {put}");
                }
            }
            var output = new StringWriter();
            var code = await FlotillaCommand.RunAsync(["cluster", "status", "--cluster", cluster.ClusterFilePath, "--json"], output, output);
            Assert.True(code == 0, output.ToString());
            var members = JsonDocument.Parse(output.ToString()).RootElement.EnumerateArray().ToList();
            Assert.Equal(3, members.Count);
            Assert.All(members, m => Assert.True(m.GetProperty("reachable").GetBoolean()));
            Assert.Equal([1, 2, 3], members.Select(m => m.GetProperty("id").GetInt32()).Order());
            Assert.Single(members, m => m.GetProperty("role").GetString() == "Leader");
            Assert.All(members, m => Assert.Equal(cluster.ProcessId(m.GetProperty("id").GetInt32()), m.GetProperty("pid").GetInt32()));
            // The service snapshotted once Raft's persisted bytes passed the threshold, so the log holds only the tail.
            Assert.Contains(members, m => m.GetProperty("snapshot_index").GetUInt64() > 0 && m.GetProperty("last_snapshot_bytes").GetInt64() > 0);
            Assert.All(members, m => Assert.True(m.GetProperty("log_entries").GetUInt64() < 200, $"log not trimmed: {m}"));
            Assert.All(members, m => Assert.True(m.GetProperty("persisted_bytes").GetInt64() > 0));

            var stop = await FlotillaCommand.RunAsync(["cluster", "stop", "--cluster", cluster.ClusterFilePath], output, output);
            Assert.Equal(0, stop);
            Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(cluster.MemberIds.All(id => cluster.ProcessId(id) is null)), TimeSpan.FromSeconds(20)),
                "members still running after 'cluster stop'");
            var after = new StringWriter();
            Assert.Equal(3, await FlotillaCommand.RunAsync(["cluster", "status", "--cluster", cluster.ClusterFilePath], after, after));
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }
}
