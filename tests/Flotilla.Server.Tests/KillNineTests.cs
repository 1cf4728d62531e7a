using Flotilla.Cli.Commands;
using Flotilla.Kv.Client;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Server.Tests;

/// <summary>
/// A real 3-process cluster on loopback under concurrent load while members are killed with SIGKILL and restarted:
/// no acknowledged write may be lost, and the whole recorded history must be linearizable per <c>flotilla check</c>.
/// </summary>
public class KillNineTests
{
    private const int Keys = 8;

    [Fact]
    public async Task NoAcknowledgedWriteIsLostAcrossKillNineOfLeaderAndFollower()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            var endpoints = cluster.File.Endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList();
            var recorder = VersionedKv.CreateRecorder();
            using var stop = new CancellationTokenSource();
            var acknowledged = new long[Keys]; // highest version an OK put created, per key
            var okPuts = 0;
            var clients = Enumerable.Range(0, 6).Select(c => Task.Run(() => ClientLoopAsync(c, endpoints, recorder, acknowledged, () => Interlocked.Increment(ref okPuts), stop.Token))).ToList();

            Assert.True(await ClusterFixture.EventuallyAsync(async () => Volatile.Read(ref okPuts) >= 20, TimeSpan.FromSeconds(30)), "no progress before the crashes");

            // Kill the leader; the survivors elect another and keep accepting writes.
            var leader = (await ClusterFixture.LeaderAsync(cluster))!.Value;
            cluster.Kill(leader);
            var before = Volatile.Read(ref okPuts);
            Assert.True(await ClusterFixture.EventuallyAsync(async () => Volatile.Read(ref okPuts) >= before + 20, TimeSpan.FromSeconds(30)), "no progress after killing the leader");
            cluster.Launch(leader);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));

            // Kill a follower, then bring it back.
            var newLeader = (await ClusterFixture.LeaderAsync(cluster)) ?? leader;
            var follower = cluster.MemberIds.First(id => id != newLeader);
            cluster.Kill(follower);
            before = Volatile.Read(ref okPuts);
            Assert.True(await ClusterFixture.EventuallyAsync(async () => Volatile.Read(ref okPuts) >= before + 20, TimeSpan.FromSeconds(30)), "no progress after killing a follower");
            cluster.Launch(follower);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));
            before = Volatile.Read(ref okPuts);
            Assert.True(await ClusterFixture.EventuallyAsync(async () => Volatile.Read(ref okPuts) >= before + 20, TimeSpan.FromSeconds(30)), "no progress after the restarts");

            await stop.CancelAsync();
            await Task.WhenAll(clients);

            // Every acknowledged put is still there: each key is at least at the version its last OK put created.
            using var channel = new GrpcKvChannel(endpoints);
            var reader = new KvClient(channel, TimeProvider.System, new Random(99), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(30) });
            for (var k = 0; k < Keys; k++)
            {
                var op = recorder.Begin(100, KvInput.Get(Key(k)));
                var got = await reader.GetAsync(Key(k));
                Assert.True(got.IsOk || (got.Status == KvStatus.ErrNoKey && acknowledged[k] == 0), $"final read of {Key(k)}: {got.Status}");
                op.End(got.IsOk ? KvOutput.Read(got.Value!, (long)got.Version) : KvOutput.NoKey);
                Assert.True((long)got.Version >= acknowledged[k], $"{Key(k)} is at version {got.Version} but a put to version {acknowledged[k]} was acknowledged");
            }

            // The history, checked by the same command a user would run.
            var path = Path.Combine(directory, "history.json");
            recorder.Save(path);
            var output = new StringWriter();
            var code = await FlotillaCommand.RunAsync(["check", path, "--timeout", "120s"], output, output);
            Assert.True(code == 0, $"flotilla check said: {output}");
            Assert.Contains("linearizable", output.ToString());
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    private static string Key(int k) => $"key-{k}";

    /// <summary>Read-modify-write on random keys, every operation recorded; an operation without an answer is left
    /// open (never returned), as the history format requires.</summary>
    private static async Task ClientLoopAsync(int id, IReadOnlyList<Uri> endpoints, Linearizability.History.HistoryRecorder<KvInput, KvOutput> recorder,
        long[] acknowledged, Action onOkPut, CancellationToken stop)
    {
        using var channel = new GrpcKvChannel(endpoints);
        var random = new Random(id);
        var client = new KvClient(channel, TimeProvider.System, random, new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(5) });
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
