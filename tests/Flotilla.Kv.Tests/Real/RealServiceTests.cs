using System.Diagnostics;
using System.Net;
using Flotilla.Kv.Client;
using Flotilla.Kv.Hosting;
using Flotilla.Kv.Protos;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Kv.Tests.Real;

/// <summary>The real server (Kestrel, HTTP/2, loopback, port 0) with a real data directory.</summary>
public sealed class RealServiceTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "flotilla-kv-" + Guid.NewGuid().ToString("N"));

    private static Task<KvServerHost> StartAsync(string data) => KvServerHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), data);

    private static (KvClient Client, GrpcKvChannel Channel) Connect(Uri address, TimeSpan? timeout = null)
    {
        var channel = new GrpcKvChannel([address]);
        return (new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions
        {
            OperationTimeout = timeout ?? TimeSpan.FromSeconds(30),
            // Loopback does not lose requests: a long attempt keeps a slow reply on a loaded machine from turning an
            // applied put into a retry (and so into ErrMaybe), which these tests would misread as a failure.
            AttemptTimeout = timeout ?? TimeSpan.FromSeconds(30),
        }), channel);
    }

    [Fact]
    public async Task RestartedServerStillHasEveryAcknowledgedPut()
    {
        var expected = new Dictionary<string, (string Value, ulong Version)>();
        await using (var server = await StartAsync(_data))
        {
            var (client, channel) = Connect(server.Address);
            using (channel)
            {
                for (var i = 0; i < 100; i++)
                {
                    Assert.Equal(KvStatus.Ok, (await client.PutAsync($"key{i}", $"first{i}", 0)).Status);
                    expected[$"key{i}"] = ($"first{i}", 1);
                }
                for (var i = 0; i < 100; i += 3)
                {
                    Assert.Equal(KvStatus.Ok, (await client.PutAsync($"key{i}", $"second{i}", 1)).Status);
                    expected[$"key{i}"] = ($"second{i}", 2);
                }
            }
        }

        await using (var restarted = await StartAsync(_data))
        {
            Assert.Equal(134, restarted.Log.Recovered.Replayed);
            var (client, channel) = Connect(restarted.Address);
            using (channel)
            {
                foreach (var (key, (value, version)) in expected)
                    Assert.Equal(new KvGetResult(KvStatus.Ok, value, version), await client.GetAsync(key));
                // The restarted server keeps enforcing versions from where it left off.
                Assert.Equal(KvStatus.ErrVersion, (await client.PutAsync("key0", "x", 1)).Status);
            }
        }
    }

    [Fact]
    public async Task AcknowledgedPutsAreOnDiskTheMomentTheyAreAnswered()
    {
        // A copy of the data directory taken right after the replies, with the server still running and never shut
        // down cleanly, is what a kill -9 leaves behind: it must hold every acknowledged put.
        await using var server = await StartAsync(_data);
        var (client, channel) = Connect(server.Address);
        using (channel)
        {
            var puts = Enumerable.Range(0, 50).Select(i => client.PutAsync($"k{i}", new string('v', 1000), 0)).ToArray();
            foreach (var put in puts) Assert.Equal(KvStatus.Ok, (await put).Status);
        }
        var copy = _data + "-copy";
        CopyDirectory(_data, copy);
        try
        {
            await using var recovered = await StartAsync(copy);
            Assert.Equal(50, recovered.Server.State.KeyCount);
            Assert.True(server.Log.SyncCount < 50, $"group commit should batch concurrent puts, but {server.Log.SyncCount} fsyncs ran for 50 puts");
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public async Task MalformedAndOversizedRequestsGetInvalidArgumentAndTheServerKeepsServing()
    {
        await using var server = await StartAsync(_data);
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxSendMessageSize = 8 << 20 });
        var raw = new Protos.Kv.KvClient(channel);

        var oversized = await Assert.ThrowsAsync<RpcException>(async () =>
            await raw.PutAsync(new PutRequest { Key = "big", Value = new string('x', KvLimits.ValueBytesMax + 1) }));
        Assert.Equal(StatusCode.InvalidArgument, oversized.StatusCode);
        Assert.Contains("limit is 1048576", oversized.Status.Detail);

        var emptyKey = await Assert.ThrowsAsync<RpcException>(async () => await raw.GetAsync(new GetRequest { Key = "" }));
        Assert.Equal(StatusCode.InvalidArgument, emptyKey.StatusCode);
        Assert.Equal("key is empty", emptyKey.Status.Detail);

        // Bytes that are not a PutRequest at all, sent on the Put method.
        var garbageMethod = new Method<byte[], byte[]>(MethodType.Unary, "flotilla.kv.v1.Kv", "Put",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var garbage = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(garbageMethod, null, new CallOptions(), [0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.NotEqual(StatusCode.OK, garbage.StatusCode);

        // None of it was applied, and the server still answers.
        Assert.Equal(KvError.Ok, (await raw.PutAsync(new PutRequest { Key = "fine", Value = "v" })).Error);
        Assert.Equal(["fine"], server.Server.State.Keys());
    }

    [Fact]
    public async Task UnreachableServerIsReportedUnavailableWithinTheDeadline()
    {
        var port = FreePort();
        var (client, channel) = Connect(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromSeconds(1));
        using (channel)
        {
            var clock = Stopwatch.StartNew();
            var result = await client.GetAsync("k");
            Assert.Equal(KvStatus.Unavailable, result.Status);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));
            Assert.True(client.Attempts > 1, "the client should retry until its deadline");
        }
    }

    /// <summary>Found by the nemesis's lock clients: a cancelled gRPC call used to escape as RpcException(Cancelled),
    /// which the lock's renewal loop (and every caller that catches OperationCanceledException) did not expect.</summary>
    [Fact]
    public async Task ACancelledCallEndsInOperationCanceledException()
    {
        // A listener that accepts connections and never answers: every call waits until cancelled.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var (client, channel) = Connect(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), TimeSpan.FromSeconds(30));
        using (channel)
        {
            using var getCancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("k", getCancelled.Token)).WaitAsync(TimeSpan.FromSeconds(20));
            using var putCancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PutAsync("k", "v", 0, putCancelled.Token)).WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
