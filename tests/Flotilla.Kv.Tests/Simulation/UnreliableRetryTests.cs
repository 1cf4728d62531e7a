using Flotilla.Kv.Client;
using Flotilla.Kv.Tests.Support;
using Flotilla.Simulation;

namespace Flotilla.Kv.Tests.Simulation;

public class UnreliableRetryTests
{
    private static SimulationOptions Unreliable => new() { Network = new() { Reliable = false, DropRate = 0.2 } };

    [Fact]
    public void RetryingClientOnALossyNetworkAppliesEachPutAtMostOnceAndFirstAttemptWins()
    {
        var errMaybeSeen = 0;
        SeedRunner.ForSeeds(20, sim =>
        {
            var kv = new KvSim(sim);
            var (node, client) = kv.AddClient(0, new KvClientOptions { AttemptTimeout = TimeSpan.FromMilliseconds(100) });
            var okPuts = 0;
            sim.RunTest(() => node.InvokeAsync(async () =>
            {
                ulong version = 0;
                string? value = null;
                for (var i = 0; i < 40; i++)
                {
                    var mine = $"v{i}";
                    var put = await client.PutAsync("k", mine, version);
                    var read = await client.GetAsync("k");
                    switch (put.Status)
                    {
                        case KvStatus.Ok:
                            okPuts++;
                            Assert.Equal((mine, version + 1), (read.Value, read.Version));
                            break;
                        case KvStatus.ErrMaybe:
                            errMaybeSeen++;
                            // Only this client writes: the put either landed once (first attempt's value, v+1) or not at all.
                            Assert.True((read.Value, read.Version) == (mine, version + 1) || (read.Value, read.Version) == (value, version),
                                $"after ErrMaybe of put({mine}, v{version}) the key holds ({read.Value}, v{read.Version})");
                            break;
                        default:
                            Assert.Fail($"a single client with the right version got {put}");
                            break;
                    }
                    (value, version) = (read.Value, read.Version);
                }
                // Every landed put bumped the version exactly once: never twice for one put.
                Assert.Equal((ulong)kv.KvServer.State.AppliedPuts, version);
                Assert.InRange(version, (ulong)okPuts, 40UL);
            }), TimeSpan.FromMinutes(10));
            Assert.True(client is Flotilla.Kv.Replicated.Testing.RecordingClient);
            kv.AssertLinearizable();
        }, Unreliable);
        Assert.True(errMaybeSeen > 0, "no ErrMaybe in any seed: the lossy network did not exercise retries");
    }

    [Fact]
    public void ConcurrentClientsOnALossyNetworkStayLinearizable()
    {
        SeedRunner.ForSeeds(10, sim =>
        {
            var kv = new KvSim(sim);
            var clients = Enumerable.Range(0, 5).Select(i => kv.AddClient(i, new KvClientOptions { AttemptTimeout = TimeSpan.FromMilliseconds(100) })).ToArray();
            sim.RunTest(() => SimTasks.All(clients.Select((c, i) => c.Node.InvokeAsync(async () =>
            {
                for (var round = 0; round < 15; round++)
                {
                    var key = $"k{sim.Random.Next(2)}";
                    var read = await c.Client.GetAsync(key);
                    await c.Client.PutAsync(key, $"c{i}-r{round}", read.IsOk ? read.Version : 0);
                }
            }))), TimeSpan.FromMinutes(10));
            kv.AssertLinearizable();
        }, Unreliable);
    }
}
