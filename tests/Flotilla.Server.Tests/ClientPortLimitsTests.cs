using System.Net;
using Flotilla.Kv;
using Flotilla.Kv.Protos;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Flotilla.Server.Tests;

/// <summary>
/// The client gRPC port of a real <c>flotilla kv serve</c> process against clients that would make it hold memory:
/// huge puts and replies nobody reads. Its peak resident memory (the kernel's VmHWM) stays bounded, the abusers get
/// a clear status, and a well-behaved client is served meanwhile.
/// </summary>
public sealed class ClientPortLimitsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"flotilla-limits-{Guid.NewGuid():N}");

    private static readonly Method<byte[], byte[]> RawPut = new(MethodType.Unary, "flotilla.kv.v1.Kv", "Put",
        Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

    private static async Task<bool> HealthyPutAndGetAsync(Uri address, string key)
    {
        using var channel = GrpcChannel.ForAddress(address);
        var client = new Kv.Protos.Kv.KvClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var put = await client.PutAsync(new PutRequest { Key = key, Value = "v" }, deadline: deadline);
        var get = await client.GetAsync(new GetRequest { Key = key }, deadline: deadline);
        return put.Error == KvError.Ok && get.Value == "v";
    }

    [Fact]
    public async Task TwentyConcurrentSixtyMegabytePutsAreRefusedBeforeBufferingAndAHealthyClientIsServed()
    {
        await using var server = await KvServeProcess.StartAsync(_data);
        Assert.True(await HealthyPutAndGetAsync(server.Address, "warm-up"));
        var baseline = server.Rss().Now;
        // One 60 MB request shared by every call, so the test's own memory stays small too.
        var huge = new PutRequest { Key = "huge", Value = new string('x', 60_000_000) }.ToByteArray();
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxSendMessageSize = null });
        var invoker = channel.CreateCallInvoker();

        var calls = Enumerable.Range(0, 20).Select(async _ =>
        {
            try
            {
                await invoker.AsyncUnaryCall(RawPut, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60)), huge);
                return StatusCode.OK;
            }
            catch (RpcException e) { return e.StatusCode; }
        }).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var healthy = await HealthyPutAndGetAsync(server.Address, "healthy");
        output.WriteLine($"healthy served after {clock.Elapsed}");
        var statuses = await Task.WhenAll(calls);
        output.WriteLine($"all refused after {clock.Elapsed}");
        var (_, peak) = server.Rss();
        output.WriteLine($"baseline RSS {baseline >> 20} MiB, peak {peak >> 20} MiB; statuses {string.Join(",", statuses.Distinct())}");

        Assert.All(statuses, s => Assert.Equal(StatusCode.ResourceExhausted, s));
        Assert.True(healthy, "a small put and get were served while the huge puts were refused");
        // Buffering the puts took 3.1 GB before the limits; refusing them from their length prefix takes almost nothing.
        Assert.True(peak - baseline < 400L << 20, $"peak RSS {peak >> 20} MiB over a {baseline >> 20} MiB baseline");
    }

    [Fact]
    public async Task TwentyConnectionsOfUnreadOneMegabyteRepliesKeepMemoryBoundedAndAHealthyClientIsServed()
    {
        await using var server = await KvServeProcess.StartAsync(_data);
        using (var setup = GrpcChannel.ForAddress(server.Address))
        {
            var put = await new Kv.Protos.Kv.KvClient(setup).PutAsync(new PutRequest { Key = "big", Value = new string('v', KvLimits.ValueBytesMax) });
            Assert.Equal(KvError.Ok, put.Error);
        }
        var baseline = server.Rss().Now;
        var get = new GetRequest { Key = "big" }.ToByteArray();

        // Each rude client is one HTTP/2 connection that sends 100 gets and never reads a byte of the replies.
        var rude = new List<RawHttp2Client>();
        try
        {
            for (var c = 0; c < 20; c++)
            {
                var client = await RawHttp2Client.ConnectAsync(server.Address);
                rude.Add(client);
                for (var i = 0; i < 100; i++) await client.SendUnaryAsync(server.Address.Authority, "/flotilla.kv.v1.Kv/Get", get);
            }
            var healthy = await HealthyPutAndGetAsync(server.Address, "healthy");
            // Give the server time to run every get it accepted and buffer its reply (it cannot send them).
            var grown = await ClusterFixture.EventuallyAsync(() => Task.FromResult(server.Rss().Now - baseline > 2000L << 20), TimeSpan.FromSeconds(5));
            var (now, peak) = server.Rss();
            output.WriteLine($"baseline RSS {baseline >> 20} MiB, now {now >> 20} MiB, peak {peak >> 20} MiB");

            Assert.True(healthy, "a small put and get were served beside 2,000 unread 1 MiB replies");
            // Before the limits every one of the 2,000 replies was buffered (2.35 GB); at 16 streams a connection, 320 at most.
            Assert.False(grown, $"RSS grew past 2 GB: {now >> 20} MiB");
            Assert.True(peak - baseline < 800L << 20, $"peak RSS {peak >> 20} MiB over a {baseline >> 20} MiB baseline");
        }
        finally
        {
            foreach (var client in rude) client.Dispose();
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
