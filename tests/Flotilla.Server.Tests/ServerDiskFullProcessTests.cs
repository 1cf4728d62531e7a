using System.Diagnostics;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Protos;
using Flotilla.Server.Cluster;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using Flotilla.Server.Tests.Support;

namespace Flotilla.Server.Tests;

/// <summary>
/// Real <c>flotilla server</c> processes (one member, then three) whose Raft data lives on small tmpfs mounts the test
/// fills up: puts get RESOURCE_EXHAUSTED "disk full (DATA DIR)", gets are still answered, Admin status and the
/// metrics say so, writes resume without a restart once space is freed, and after kill -9 and a restart every
/// acknowledged put is there. Needs root to mount (CI and the dev machine run as root); without it, it says so and
/// returns (the same behaviour is covered in virtual time by Flotilla.Raft.Tests RaftDiskFullTests).
/// </summary>
public sealed class ServerDiskFullProcessTests(ITestOutputHelper output)
{
    private const int TmpfsMiB = 16;
    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(15));

    [Fact]
    public Task OneMemberOnAFullDiskRefusesPutsServesGetsAndResumesWithNothingLost() => RunAsync(nodes: 1);

    [Fact]
    public Task ThreeMembersOnFullDisksRefusePutsServeGetsAndResumeWithNothingLost() => RunAsync(nodes: 3);

    private async Task RunAsync(int nodes)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"flotilla-diskfull-{Guid.NewGuid():N}");
        var mounts = Enumerable.Range(1, nodes).Select(i => Path.Combine(directory, $"node-{i}", "raft")).ToList();
        foreach (var mount in mounts) Directory.CreateDirectory(mount);
        var mounted = new List<string>();
        LocalCluster? cluster = null;
        try
        {
            foreach (var mount in mounts)
            {
                if (!SmallDisk.TryMount(mount, TmpfsMiB))
                {
                    output.WriteLine($"SKIPPED: cannot mount a tmpfs at {mount} (needs root on Linux); RaftDiskFullTests covers this in virtual time");
                    return;
                }
                mounted.Add(mount);
            }
            var metricsPort = CliProcess.FreePort();
            cluster = await LocalCluster.StartAsync(new LocalClusterOptions
            {
                Nodes = nodes,
                Directory = directory,
                Flotilla = SelfInvocation.Current(),
                // 512 KiB WAL segments and frequent snapshots: the disk fills in both the log and the snapshot.
                ServerArguments = ["--snapshot-threshold", "1048576", .. nodes == 1 ? new[] { "--metrics-listen", $"127.0.0.1:{metricsPort}" } : []],
            });
            var leader = await LeaderAsync(cluster);
            var data = cluster.DataDirectory(leader);
            using var channel = GrpcChannel.ForAddress(cluster.Addresses[leader]);
            var kv = new Kv.Protos.Kv.KvClient(channel);
            var acknowledged = new Dictionary<string, string>();
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(KvError.Ok, (await kv.PutAsync(new PutRequest { Key = $"k{i}", Value = $"v{i}" }, Deadline)).Error);
                acknowledged[$"k{i}"] = $"v{i}";
            }
            foreach (var mount in mounts) SmallDisk.FillUp(Path.Combine(mount, "filler"));

            RpcException? full = null;
            var big = new string('b', 64 * 1024);
            for (var i = 0; i < 400 && full is null; i++)
            {
                try
                {
                    var reply = await kv.PutAsync(new PutRequest { Key = $"big{i}", Value = big }, Deadline);
                    if (reply.Error == KvError.Ok) acknowledged[$"big{i}"] = big;
                    else Assert.Fail($"put big{i}: {reply.Error} (expected OK or RESOURCE_EXHAUSTED); {Logs(cluster)}");
                }
                catch (RpcException e) { full = e; }
            }
            Assert.NotNull(full);
            output.WriteLine($"{acknowledged.Count} puts acknowledged, then {full.StatusCode}: {full.Status.Detail}");
            Assert.True(full.StatusCode == StatusCode.ResourceExhausted, $"{full.Status}; {Logs(cluster)}");
            Assert.StartsWith($"disk full ({data})", full.Status.Detail);

            // Reads are still served, linearizably, by the same leader.
            foreach (var (key, value) in acknowledged) Assert.Equal(value, (await kv.GetAsync(new GetRequest { Key = key }, Deadline)).Value);
            var statuses = await cluster.StatusAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("Leader", statuses[leader]!.Role);
            Assert.StartsWith($"disk full ({data})", statuses[leader]!.StorageError);
            if (nodes == 1)
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
                Assert.Contains("flotilla_storage_disk_full 1", metrics);
            }
            Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(File.ReadAllText(cluster.LogFile(leader)).Contains("disk full", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10)), $"the server did not log the full disk: {Logs(cluster)}");

            foreach (var mount in mounts) File.Delete(Path.Combine(mount, "filler"));
            PutReply? resumed = null;
            var watch = Stopwatch.StartNew();
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                try { resumed = await kv.PutAsync(new PutRequest { Key = "after", Value = "space" }, Deadline); }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted) { }
                return resumed is not null;
            }, TimeSpan.FromSeconds(30)), $"writes did not resume after space was freed; {Logs(cluster)}");
            output.WriteLine($"writes resumed {watch.ElapsedMilliseconds} ms after space was freed");
            Assert.Equal(KvError.Ok, resumed!.Error);
            acknowledged["after"] = "space";
            Assert.True(await ClusterFixture.EventuallyAsync(async () => (await cluster.StatusAsync(TimeSpan.FromSeconds(2)))[leader]?.StorageError == "",
                TimeSpan.FromSeconds(10)), "status still reports a full disk");

            // kill -9 every member (nothing flushed on the way out), start them again: nothing acknowledged is lost.
            foreach (var id in cluster.MemberIds) cluster.Kill(id);
            foreach (var id in cluster.MemberIds) cluster.Launch(id);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(60));
            var newLeader = await LeaderAsync(cluster);
            using var again = GrpcChannel.ForAddress(cluster.Addresses[newLeader]);
            var client = new Kv.Protos.Kv.KvClient(again);
            foreach (var (key, value) in acknowledged) Assert.Equal(value, (await client.GetAsync(new GetRequest { Key = key }, Deadline)).Value);
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync();
            foreach (var mount in mounted) SmallDisk.Unmount(mount);
            try { Directory.Delete(directory, recursive: true); }
            catch (IOException) { }
        }
    }

    private static async Task<int> LeaderAsync(LocalCluster cluster)
    {
        int? leader = null;
        Assert.True(await ClusterFixture.EventuallyAsync(async () => (leader = await ClusterFixture.LeaderAsync(cluster)) is not null, TimeSpan.FromSeconds(30)),
            "no leader within 30 s");
        return leader!.Value;
    }

    private static string Logs(LocalCluster cluster) =>
        string.Join("\n", cluster.MemberIds.Select(id => $"--- n{id}:\n" + string.Join("\n", File.ReadLines(cluster.LogFile(id)).TakeLast(15))));
}
