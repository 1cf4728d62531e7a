using Flotilla.Kv.Client;
using Flotilla.Kv.Tests.Support;
using Flotilla.Simulation;

namespace Flotilla.Kv.Tests.Simulation;

public class ConcurrentClientsTests
{
    [Fact]
    public void TenClientsRacingOnOneKeyFinalVersionEqualsOkPuts()
    {
        SeedRunner.ForSeeds(20, sim =>
        {
            var kv = new KvSim(sim);
            var clients = Enumerable.Range(0, 10).Select(i => kv.AddClient(i)).ToArray();
            var okPuts = 0;
            var versionErrors = 0;
            sim.RunTest(() => SimTasks.All(clients.Select((c, i) => c.Node.InvokeAsync(async () =>
            {
                for (var round = 0; round < 20; round++)
                {
                    var read = await c.Client.GetAsync("hot");
                    var version = read.IsOk ? read.Version : 0;
                    var put = await c.Client.PutAsync("hot", $"c{i}-r{round}", version);
                    if (put.IsOk) okPuts++;
                    else if (put.Status == KvStatus.ErrVersion) versionErrors++;
                    else Assert.Fail($"unexpected {put}");
                }
            }))), TimeSpan.FromMinutes(5));

            var final = kv.KvServer.State.Get("hot");
            Assert.Equal((ulong)okPuts, final.Version);
            Assert.Equal(200, okPuts + versionErrors);
            Assert.True(versionErrors > 0, "ten clients on one key never collided: the test is not testing contention");
            kv.AssertLinearizable();
        });
    }
}
