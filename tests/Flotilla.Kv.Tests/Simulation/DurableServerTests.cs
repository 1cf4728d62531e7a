using Flotilla.Kv.Client;
using Flotilla.Kv.Storage;
using Flotilla.Kv.Tests.Support;
using Flotilla.Simulation;
using Flotilla.Wal;

namespace Flotilla.Kv.Tests.Simulation;

public class DurableServerTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // snapshot + log compaction every few puts, power cut in the middle of it
    public void PowerLossNeverLosesAnAcknowledgedPut(bool compact)
    {
        SeedRunner.ForSeeds(10, sim =>
        {
            var options = new KvDurableLogOptions
            {
                CompactAfterBytes = compact ? 2048 : long.MaxValue,
                Wal = new WalOptions { Directory = "kv/wal", SegmentBytes = 4096, RecordBytesMax = 2048 },
            };
            var kv = new KvSim(sim, durable: true, options);
            var clients = Enumerable.Range(0, 4).Select(i => kv.AddClient(i, new KvClientOptions { AttemptTimeout = TimeSpan.FromMilliseconds(50) })).ToArray();
            var acknowledged = new Dictionary<string, (string Value, ulong Version)>();
            var done = 0;
            // Power-cycle the server at random moments while clients write: unsynced data is lost or torn each time.
            kv.Server.Post(() => { });
            sim.RunTest(async () =>
            {
                var work = clients.Select((c, i) => c.Node.InvokeAsync(async () =>
                {
                    for (var round = 0; round < 25; round++)
                    {
                        var key = $"k{i % 2}-{round % 3}";
                        var read = await c.Client.GetAsync(key);
                        var version = read.IsOk ? read.Version : 0;
                        var value = $"c{i}r{round}";
                        var put = await c.Client.PutAsync(key, value, version);
                        if (put.IsOk && (!acknowledged.TryGetValue(key, out var known) || known.Version < version + 1))
                            acknowledged[key] = (value, version + 1);
                    }
                    done++;
                })).ToList();
                while (done < clients.Length)
                {
                    await sim.Delay(TimeSpan.FromMilliseconds(sim.Random.Next(5, 60)));
                    if (done < clients.Length) kv.Server.Restart();
                }
                await SimTasks.All(work);
            }, TimeSpan.FromHours(1));

            // After one more power loss, everything acknowledged is still there (or superseded by a later put).
            kv.Server.Restart();
            sim.RunFor(TimeSpan.FromMilliseconds(100));
            foreach (var (key, (value, version)) in acknowledged)
            {
                var stored = kv.KvServer.State.Get(key);
                Assert.True(stored.Version >= version, $"{key}: acknowledged version {version} ({value}) but the server recovered version {stored.Version}");
                if (stored.Version == version) Assert.Equal(value, stored.Value);
            }
            Assert.Equal(compact, kv.Server.Storage.Exists("kv/snapshot"));
            kv.AssertLinearizable();
        });
    }
}
