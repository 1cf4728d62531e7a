using Flotilla.Kv.Client;
using Flotilla.Kv.Tests.Support;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Tests.Simulation;

public class MemoryBoundTests
{
    private const int Keys = 16;

    [Fact]
    public void HundredThousandClientsEachPuttingOneKilobyteLeaveOnlyTheKeysBehind()
    {
        var clientCount = int.TryParse(Environment.GetEnvironmentVariable("FLOTILLA_KV_CLIENTS"), out var n) ? n : 100_000;
        var sim = new Simulator(7);
        var kv = new KvSim(sim);
        var value = new string('x', 1024);
        var results = new Dictionary<KvStatus, int>();
        sim.RunFor(TimeSpan.FromMilliseconds(1));
        // Clients come and go in waves of 1000 so the simulation stays small; each is a distinct node id.
        for (var wave = 0; wave < clientCount; wave += 1000)
        {
            var nodes = Enumerable.Range(wave, Math.Min(1000, clientCount - wave)).Select(i => sim.AddClient(new NodeId(1000 + i))).ToArray();
            sim.RunTest(() => SimTasks.All(nodes.Select((node, j) => node.InvokeAsync(async () =>
            {
                var client = KvClient.Over(node.Context, [KvSim.ServerId]);
                var key = $"key{(wave + j) % Keys}";
                var read = await client.GetAsync(key);
                var put = await client.PutAsync(key, value, read.IsOk ? read.Version : 0);
                results[put.Status] = results.GetValueOrDefault(put.Status) + 1;
            }))), TimeSpan.FromMinutes(10));
            foreach (var node in nodes) node.Crash(); // the client is gone; nothing of it may remain on the server
        }

        var state = kv.KvServer.State;
        Assert.Equal(clientCount, results.Values.Sum());
        Assert.Equal(Keys, state.KeyCount);
        // The whole server state: 16 keys with 1 KB values (UTF-16 in memory), whatever the number of clients.
        Assert.InRange(state.DataBytes, Keys * 2 * 1024, Keys * 2 * (1024 + 8));
        Assert.True(state.Snapshot().Length < Keys * (1024 + 32), "snapshot holds more than the keys");
        Assert.Equal((long)results.GetValueOrDefault(KvStatus.Ok), state.AppliedPuts);
    }
}
