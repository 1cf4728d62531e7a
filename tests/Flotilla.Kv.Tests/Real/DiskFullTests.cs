using System.Net;
using Flotilla.Kv.Hosting;
using Flotilla.Kv.Protos;
using Flotilla.Kv.Storage;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Kv.Tests.Real;

/// <summary>
/// The single-node server (Kestrel, real data directory) when its disk fills, with the disk's ENOSPC injected by
/// <see cref="FaultyDisk"/> (the real-process version on a real tmpfs is in Flotilla.Server.Tests): puts get
/// RESOURCE_EXHAUSTED naming the path, reads are still served, and once space returns writes resume; after a
/// restart every acknowledged put is there.
/// </summary>
public sealed class DiskFullTests
{
    [Fact]
    public Task FullDiskRefusesPutsWithResourceExhaustedServesReadsAndResumesWhenSpaceReturns() => new DiskFullScenario().RunAsync();
}

/// <summary>The scenario of <see cref="DiskFullTests"/>, also what the real-process test falls back to where it cannot mount a tmpfs.</summary>
internal sealed class DiskFullScenario
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "flotilla-kv-" + Guid.NewGuid().ToString("N"));

    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(30));

    public async Task RunAsync()
    {
        try { await RunCoreAsync(); }
        finally
        {
            try { Directory.Delete(_data, recursive: true); }
            catch (DirectoryNotFoundException) { }
        }
    }

    private async Task RunCoreAsync()
    {
        FaultyDisk disk = null!;
        var acknowledged = new Dictionary<string, string>();
        await using (var server = await KvServerHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), _data,
                         new KvDurableLogOptions { DiskFullProbeInterval = TimeSpan.FromMilliseconds(50) },
                         wrapStorage: inner => disk = new FaultyDisk(inner, _data)))
        using (var channel = GrpcChannel.ForAddress(server.Address))
        {
            var kv = new Protos.Kv.KvClient(channel);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(KvError.Ok, (await kv.PutAsync(new PutRequest { Key = $"k{i}", Value = $"v{i}" }, Deadline)).Error);
                acknowledged[$"k{i}"] = $"v{i}";
            }

            disk.Full = true;
            var whileFilling = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new PutRequest { Key = "lost", Value = "x" }, Deadline));
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new PutRequest { Key = "k0", Value = "new", Version = 1 }, Deadline));
            var read = await kv.GetAsync(new GetRequest { Key = "k0" }, Deadline);
            var unwritten = await kv.GetAsync(new GetRequest { Key = "lost" }, Deadline);

            Assert.Equal(StatusCode.ResourceExhausted, whileFilling.StatusCode);
            Assert.Equal($"disk full ({_data}): {KvDiskFullException.OutcomeUnknownText}", whileFilling.Status.Detail);
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
            Assert.Equal($"disk full ({_data}): {KvDiskFullException.NotAppliedText}", refused.Status.Detail);
            Assert.Equal(("v0", 1UL), (read.Value, read.Version)); // served, and the refused put did not apply
            Assert.Equal(KvError.ErrNoKey, unwritten.Error); // rolled back: never durable, so no reader sees it
            Assert.Equal($"disk full ({_data})", server.Log.DiskFullReason);

            disk.Full = false;
            PutReply? resumed = null;
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (resumed is null)
            {
                try { resumed = await kv.PutAsync(new PutRequest { Key = "after", Value = "space" }, Deadline); }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && !limit.IsCancellationRequested) { await Task.Delay(20); }
            }
            Assert.Equal(KvError.Ok, resumed.Error);
            acknowledged["after"] = "space";
            Assert.Null(server.Log.DiskFullReason);
            Assert.Equal(1, server.Log.DiskFullEvents);
        }

        await using var restarted = await KvServerHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), _data);
        using var again = GrpcChannel.ForAddress(restarted.Address);
        var client = new Protos.Kv.KvClient(again);
        foreach (var (key, value) in acknowledged) Assert.Equal(value, (await client.GetAsync(new GetRequest { Key = key }, Deadline)).Value);
    }
}
