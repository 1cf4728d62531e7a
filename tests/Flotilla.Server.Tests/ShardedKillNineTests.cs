using Flotilla.Cli.Commands;
using Flotilla.Kv.Client;
using Flotilla.Linearizability.Kv;
using Flotilla.Server.Sharding;
using Flotilla.ShardGroup.Protos;
using Flotilla.ShardKv;
using Flotilla.ShardKv.Client;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Tests;

/// <summary>
/// A sharded store of real processes under concurrent load while shards move between its two groups, and the
/// process leading the receiving group, then the one leading the controller, is killed with SIGKILL in the middle of
/// a migration and restarted: no acknowledged write may be lost, and the recorded history must be linearizable per
/// <c>flotilla check</c>.
/// </summary>
public class ShardedKillNineTests
{
    private const int Keys = 8;
    private const int Shards = 16;

    [Fact]
    public async Task NoAcknowledgedWriteIsLostWhenGroupAndControllerLeadersAreKilledMidMigration()
    {
        var (cluster, directory) = await ShardedClusterFixture.StartAsync(groups: 2, shards: Shards);
        try
        {
            var endpoints = cluster.File.Endpoints;
            var recorder = VersionedKv.CreateRecorder();
            using var stop = new CancellationTokenSource();
            var acknowledged = new long[Keys];
            var okPuts = 0;
            var clients = Enumerable.Range(0, 6).Select(c => Task.Run(() => ClientLoopAsync(c, endpoints, recorder, acknowledged, () => Interlocked.Increment(ref okPuts), stop.Token))).ToList();
            async Task Progress(string when)
            {
                var before = Volatile.Read(ref okPuts);
                Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref okPuts) >= before + 20), TimeSpan.FromSeconds(60)), $"no progress {when}");
            }
            await Progress("before the moves");

            using var controller = cluster.Controller();
            var keyShards = Enumerable.Range(0, Keys).Select(k => ShardMap.ShardOf(Key(k), Shards)).Distinct().ToList();

            // Migration 1: every shard holding a test key goes to group 2; kill group 2's leader while it pulls.
            foreach (var shard in keyShards) Assert.True((await controller.MoveAsync(shard, 2, TimeSpan.FromSeconds(30))).IsOk);
            var victim = await GroupLeaderAsync(cluster, 2);
            cluster.Processes.Kill(victim);
            await Progress("after killing group 2's leader mid-migration");
            cluster.Processes.Launch(victim);
            await cluster.Processes.WaitReadyAsync(TimeSpan.FromSeconds(60));

            // Migration 2: all of them back to group 1; kill the controller's leader right after.
            foreach (var shard in keyShards) Assert.True((await controller.MoveAsync(shard, 1, TimeSpan.FromSeconds(30))).IsOk);
            var controllerLeader = await ClusterFixture.LeaderAsync(cluster.Processes);
            Assert.NotNull(controllerLeader);
            cluster.Processes.Kill(controllerLeader!.Value);
            await Progress("after killing the controller's leader mid-migration");
            cluster.Processes.Launch(controllerLeader.Value);
            await cluster.Processes.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await Progress("after the restarts");

            // Both migrations completed despite the kills: every moved shard is served by group 1 again.
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
            {
                var output = new StringWriter();
                if (await FlotillaCommand.RunAsync(["shard", "status", "--json", "--cluster", cluster.ClusterFilePath], output, output) != 0) return false;
                var shards = System.Text.Json.JsonDocument.Parse(output.ToString()).RootElement.GetProperty("shards");
                return keyShards.All(s => shards[s].GetProperty("gid").GetInt32() == 1 && shards[s].GetProperty("state").GetString() == "Serving");
            }, TimeSpan.FromSeconds(60)), "the moves back to group 1 did not complete after the restarts");

            await stop.CancelAsync();
            await Task.WhenAll(clients);

            // Every acknowledged put is still there, read through the store's own client after the moves settled.
            using var channel = new GrpcShardChannel();
            var reader = new ShardKvClient(channel, endpoints, TimeProvider.System, new Random(99), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(60) });
            for (var k = 0; k < Keys; k++)
            {
                var op = recorder.Begin(100, KvInput.Get(Key(k)));
                var got = await reader.GetAsync(Key(k));
                Assert.True(got.IsOk || (got.Status == KvStatus.ErrNoKey && acknowledged[k] == 0), $"final read of {Key(k)}: {got.Status} {got.Detail}");
                op.End(got.IsOk ? KvOutput.Read(got.Value!, (long)got.Version) : KvOutput.NoKey);
                Assert.True((long)got.Version >= acknowledged[k], $"{Key(k)} is at version {got.Version} but a put to version {acknowledged[k]} was acknowledged");
            }

            var path = Path.Combine(directory, "history.json");
            recorder.Save(path);
            var output = new StringWriter();
            var code = await FlotillaCommand.RunAsync(["check", path, "--timeout", "120s"], output, output);
            Assert.True(code == 0, $"flotilla check said: {output}");
            Assert.Contains("linearizable", output.ToString());
        }
        finally
        {
            await ShardedClusterFixture.StopAsync(cluster, directory);
        }
    }

    private static string Key(int k) => $"key-{k}";

    /// <summary>The process whose replica of <paramref name="gid"/> leads (waits for one).</summary>
    private static async Task<int> GroupLeaderAsync(Server.Cluster.ShardedLocalCluster cluster, int gid)
    {
        int? leader = null;
        Assert.True(await ClusterFixture.EventuallyAsync(async () =>
        {
            foreach (var id in cluster.Processes.MemberIds)
            {
                try
                {
                    using var channel = GrpcChannel.ForAddress(cluster.Processes.Addresses[id]);
                    var status = await new ShardGroup.Protos.ShardGroup.ShardGroupClient(channel).StatusAsync(new GroupStatusRequest { Gid = gid }, deadline: DateTime.UtcNow.AddSeconds(1));
                    if (status.Role == "Leader") { leader = id; return true; }
                }
                catch (RpcException) { }
            }
            return false;
        }, TimeSpan.FromSeconds(30)), $"group {gid} has no leader");
        return leader!.Value;
    }

    /// <summary>Read-modify-write on random keys through the sharded client, every operation recorded; an operation
    /// without an answer is left open, as the history format requires.</summary>
    private static async Task ClientLoopAsync(int id, IReadOnlyList<string> endpoints, Linearizability.History.HistoryRecorder<KvInput, KvOutput> recorder,
        long[] acknowledged, Action onOkPut, CancellationToken stop)
    {
        using var channel = new GrpcShardChannel();
        var random = new Random(id);
        var client = new ShardKvClient(channel, endpoints, TimeProvider.System, random, new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(5) });
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var k = random.Next(Keys);
            var get = recorder.Begin(id, KvInput.Get(Key(k)));
            var read = await client.GetAsync(Key(k));
            if (read.Status == KvStatus.Unavailable) continue;
            get.End(read.IsOk ? KvOutput.Read(read.Value!, (long)read.Version) : KvOutput.NoKey);
            var version = read.IsOk ? read.Version : 0;
            var value = $"c{id}-{n++}";
            var put = recorder.Begin(id, KvInput.Put(Key(k), value, (long)version));
            var wrote = await client.PutAsync(Key(k), value, version);
            switch (wrote.Status)
            {
                case KvStatus.Ok:
                    put.End(KvOutput.Ok);
                    InterlockedMax(ref acknowledged[k], (long)version + 1);
                    onOkPut();
                    break;
                case KvStatus.ErrVersion: put.End(KvOutput.VersionMismatch); break;
                case KvStatus.ErrNoKey: put.End(KvOutput.NoKey); break;
                case KvStatus.ErrMaybe: put.End(KvOutput.Maybe); break;
                default: break; // Unavailable: outcome unknown, the operation never returns in the history
            }
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
