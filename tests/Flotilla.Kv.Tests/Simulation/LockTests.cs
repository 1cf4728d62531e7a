using Flotilla.Kv.Client;
using Flotilla.Kv.Lock;
using Flotilla.Kv.Tests.Support;
using Flotilla.Simulation;

namespace Flotilla.Kv.Tests.Simulation;

public class LockTests
{
    private static readonly KvLockOptions Options = new()
    {
        Lease = TimeSpan.FromSeconds(2),
        SafetyFactor = 0.8,
        RenewInterval = TimeSpan.FromMilliseconds(400),
        PollInterval = TimeSpan.FromMilliseconds(50),
    };

    private static readonly KvClientOptions FastRetry = new() { AttemptTimeout = TimeSpan.FromMilliseconds(100) };

    [Theory]
    [InlineData(1, true)]
    [InlineData(10, true)]
    [InlineData(1, false)]
    [InlineData(10, false)]
    public void NoTwoClientsEverHoldTheLockAtOnce(int clientCount, bool reliable)
    {
        var options = new SimulationOptions { Network = new() { Reliable = reliable, DropRate = 0.1 } };
        SeedRunner.ForSeeds(reliable ? 8 : 6, sim =>
        {
            var kv = new KvSim(sim);
            var holds = new List<(int Client, long From, long To)>();
            var clients = Enumerable.Range(0, clientCount).Select(i => kv.AddClient(i, FastRetry)).ToArray();
            sim.RunTest(() => SimTasks.All(clients.Select((c, i) => c.Node.InvokeAsync(async () =>
            {
                var time = c.Node.Context.Time;
                await using var handle = new KvLock(c.Client, "lock", time, c.Node.Context.Random, Options);
                for (var round = 0; round < 4; round++)
                {
                    Assert.True(await handle.AcquireAsync(), "acquire gave up although the store is reachable");
                    var from = time.GetTimestamp();
                    Assert.True(handle.IsHeld);
                    // Some holds outlast the lease, so only renewals keep the others out.
                    await Task.Delay(TimeSpan.FromMilliseconds(c.Node.Context.Random.Next(0, 3500)), time);
                    holds.Add((i, from, Math.Min(time.GetTimestamp(), handle.ValidUntil)));
                    await handle.ReleaseAsync();
                    await Task.Delay(TimeSpan.FromMilliseconds(c.Node.Context.Random.Next(0, 200)), time);
                }
            }))), TimeSpan.FromHours(2));

            Assert.Equal(clientCount * 4, holds.Count);
            var ordered = holds.OrderBy(h => h.From).ToList();
            for (var k = 1; k < ordered.Count; k++)
                Assert.True(ordered[k].From >= ordered[k - 1].To,
                    $"client {ordered[k].Client} took the lock at {ordered[k].From} while client {ordered[k - 1].Client} held it until {ordered[k - 1].To}");
            if (reliable) Assert.All(holds, h => Assert.True(h.To > h.From)); // nobody lost a hold to a spurious takeover
            kv.AssertLinearizable();
        }, options, testName: $"{nameof(NoTwoClientsEverHoldTheLockAtOnce)}({clientCount}, {reliable})");
    }

    [Fact]
    public void ClientThatCrashesHoldingTheLockLosesItAfterTheLease()
    {
        SeedRunner.ForSeeds(8, sim =>
        {
            var kv = new KvSim(sim);
            var (a, clientA) = kv.AddClient(0, FastRetry);
            var (b, clientB) = kv.AddClient(1, FastRetry);
            var lockA = new KvLock(clientA, "lock", a.Context.Time, a.Context.Random, Options);
            Assert.True(sim.RunTest(() => a.InvokeAsync(() => lockA.AcquireAsync()), TimeSpan.FromMinutes(1)));
            var validUntilA = lockA.ValidUntil;
            sim.RunFor(TimeSpan.FromMilliseconds(sim.Random.Next(0, 1000))); // A renews a little, then dies holding it
            a.Crash();
            var crashedAt = sim.Now;

            var lockB = new KvLock(clientB, "lock", b.Context.Time, b.Context.Random, Options);
            Assert.True(sim.RunTest(() => b.InvokeAsync(() => lockB.AcquireAsync()), TimeSpan.FromMinutes(1)));
            var acquiredAt = sim.Now;
            // Not before A's last lease could have ended, and not much after one lease from A's last renewal.
            Assert.True(b.Context.Time.GetTimestamp() >= validUntilA);
            Assert.InRange(acquiredAt - crashedAt, TimeSpan.FromSeconds(0.5), Options.Lease + TimeSpan.FromMilliseconds(500));
            Assert.True(lockB.IsHeld);
            kv.AssertLinearizable();
        });
    }

    [Fact]
    public void ReleasedLockIsTakenAtOnceWithoutWaitingForTheLease()
    {
        var sim = new Simulator(11);
        var kv = new KvSim(sim);
        var (a, clientA) = kv.AddClient(0);
        var (b, clientB) = kv.AddClient(1);
        var lockA = new KvLock(clientA, "lock", a.Context.Time, a.Context.Random, Options);
        var lockB = new KvLock(clientB, "lock", b.Context.Time, b.Context.Random, Options);
        Assert.True(sim.RunTest(() => a.InvokeAsync(() => lockA.AcquireAsync()), TimeSpan.FromMinutes(1)));
        var fenceA = lockA.FencingToken;
        sim.RunTest(() => a.InvokeAsync(async () => { await lockA.ReleaseAsync(); return true; }), TimeSpan.FromMinutes(1));
        var before = sim.Now;
        Assert.True(sim.RunTest(() => b.InvokeAsync(() => lockB.AcquireAsync()), TimeSpan.FromMinutes(1)));
        Assert.True(sim.Now - before < TimeSpan.FromMilliseconds(50));
        Assert.True(lockB.FencingToken > fenceA, "fencing tokens must grow from one holder to the next");
        Assert.False(lockA.IsHeld);
    }
}
