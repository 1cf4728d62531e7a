using Flotilla.Kv.Client;
using Flotilla.Kv.Protos;
using Flotilla.Kv.Server;
using Flotilla.Kv.Tests.Support;
using Flotilla.Runtime.Network;
using Flotilla.Simulation;
using Google.Protobuf;

namespace Flotilla.Kv.Tests.Simulation;

public class PutGetSemanticsTests
{
    [Fact]
    public void EveryPutAndGetOutcomeOnAReliableNetwork()
    {
        SeedRunner.ForSeeds(5, sim =>
        {
            var kv = new KvSim(sim);
            var (node, client) = kv.AddClient(0);
            sim.RunTest(() => node.InvokeAsync(async () =>
            {
                Assert.Equal(KvStatus.ErrNoKey, (await client.GetAsync("a")).Status);
                // Absent key: only version 0 creates it.
                Assert.Equal(KvStatus.ErrNoKey, (await client.PutAsync("a", "x", 5)).Status);
                Assert.Equal(KvStatus.ErrNoKey, (await client.GetAsync("a")).Status);
                Assert.Equal(KvStatus.Ok, (await client.PutAsync("a", "x", 0)).Status);
                Assert.Equal(new KvGetResult(KvStatus.Ok, "x", 1), await client.GetAsync("a"));
                // Existing key: version 0 (or any stale version) is a mismatch; the first attempt reports ErrVersion.
                Assert.Equal(KvStatus.ErrVersion, (await client.PutAsync("a", "y", 0)).Status);
                Assert.Equal(KvStatus.ErrVersion, (await client.PutAsync("a", "y", 2)).Status);
                Assert.Equal(KvStatus.Ok, (await client.PutAsync("a", "y", 1)).Status);
                Assert.Equal(new KvGetResult(KvStatus.Ok, "y", 2), await client.GetAsync("a"));
                Assert.Equal(KvStatus.ErrVersion, (await client.PutAsync("a", "z", 1)).Status);
                Assert.Equal(new KvGetResult(KvStatus.Ok, "y", 2), await client.GetAsync("a"));
                // Keys are independent; the empty string is a legal value.
                Assert.Equal(KvStatus.Ok, (await client.PutAsync("b", "", 0)).Status);
                Assert.Equal(new KvGetResult(KvStatus.Ok, "", 1), await client.GetAsync("b"));
                Assert.Equal(new KvGetResult(KvStatus.Ok, "y", 2), await client.GetAsync("a"));
            }), TimeSpan.FromMinutes(1));
            kv.AssertLinearizable();
            Assert.Equal(2, kv.KvServer.State.KeyCount);
        });
    }

    [Fact]
    public void MalformedAndOversizedRequestsAreRejectedByTheServerAndNeverApplied()
    {
        var sim = new Simulator(1);
        var kv = new KvSim(sim);
        var node = sim.AddClient(new(100));
        sim.RunTest(() => node.InvokeAsync(async () =>
        {
            var t = node.Context.Transport;
            async Task<RpcReply> Raw(string method, byte[] payload) =>
                await t.CallAsync(KvSim.ServerId, method, payload, TimeSpan.FromSeconds(1), node.Context.Time);

            var garbage = await Raw(KvServer.PutMethod, [0xFF, 0xFF, 0xFF]);
            Assert.Equal(RpcStatus.Failed, garbage.Status);
            Assert.StartsWith(KvInvalidArgumentException.Prefix + "malformed PutRequest", garbage.Error);

            var emptyKey = await Raw(KvServer.GetMethod, new GetRequest { Key = "" }.ToByteArray());
            Assert.Equal(RpcStatus.Failed, emptyKey.Status);
            Assert.Equal(KvInvalidArgumentException.Prefix + "key is empty", emptyKey.Error);

            var bigValue = new PutRequest { Key = "k", Value = new string('v', KvLimits.ValueBytesMax + 1), Version = 0 };
            var oversized = await Raw(KvServer.PutMethod, bigValue.ToByteArray());
            Assert.Equal(RpcStatus.Failed, oversized.Status);
            Assert.Contains("the limit is 1048576", oversized.Error);

            var bigKey = new PutRequest { Key = new string('k', KvLimits.KeyBytesMax + 1), Value = "v" };
            Assert.Contains("key is 1025 bytes", (await Raw(KvServer.PutMethod, bigKey.ToByteArray())).Error);

            // A value exactly at the limit is fine, and the server still serves after all of the above.
            var atLimit = new PutRequest { Key = "k", Value = new string('v', KvLimits.ValueBytesMax) };
            Assert.Equal(RpcStatus.Ok, (await Raw(KvServer.PutMethod, atLimit.ToByteArray())).Status);
            return true;
        }), TimeSpan.FromMinutes(1));
        Assert.Equal(["k"], kv.KvServer.State.Keys());
    }

    [Fact]
    public void ClientReportsInvalidArgumentWithoutRetrying()
    {
        var sim = new Simulator(2);
        _ = new KvSim(sim);
        var node = sim.AddClient(new(100));
        var client = KvClient.Over(node.Context, [KvSim.ServerId]);
        sim.RunTest(() => node.InvokeAsync(async () =>
        {
            var put = await client.PutAsync("k", new string('v', KvLimits.ValueBytesMax + 1), 0);
            Assert.Equal(KvStatus.InvalidArgument, put.Status);
            Assert.Contains("limit", put.Detail);
            Assert.Equal(KvStatus.InvalidArgument, (await client.GetAsync("")).Status);
            Assert.Equal(KvStatus.InvalidArgument, (await client.PutAsync("k", "v", ulong.MaxValue)).Status);
            return true;
        }), TimeSpan.FromMinutes(1));
        Assert.Equal(0, client.Attempts); // caught before sending
    }

    [Fact]
    public void ClientWithADeadlineReportsUnavailableWhenTheServerIsDown()
    {
        var sim = new Simulator(3);
        var kv = new KvSim(sim);
        var node = sim.AddClient(new(100));
        var client = KvClient.Over(node.Context, [KvSim.ServerId], new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(3) });
        sim.RunFor(TimeSpan.FromMilliseconds(1));
        kv.Server.Crash();
        var started = sim.Now;
        var result = sim.RunTest(() => node.InvokeAsync(() => client.PutAsync("k", "v", 0)), TimeSpan.FromMinutes(1));
        Assert.Equal(KvStatus.Unavailable, result.Status);
        Assert.InRange(sim.Now - started, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3.1));
    }
}
