using Flotilla.Kv.Protos;
using Flotilla.Kv.Storage;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using Flotilla.Server.Tests.Support;

namespace Flotilla.Server.Tests;

/// <summary>
/// A real <c>flotilla kv serve</c> process whose data directory is a small tmpfs that the test fills up: puts get
/// RESOURCE_EXHAUSTED "disk full (PATH)", reads are still served, the server says so on stderr, writes resume once
/// space is freed, and after a kill -9 and restart every acknowledged put is there. Needs root to mount; where
/// mounting fails the same scenario runs in-process on a fault-injecting file system (Flotilla.Kv.Tests DiskFullTests).
/// </summary>
public sealed class DiskFullProcessTests(ITestOutputHelper output)
{
    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(30));

    [Fact]
    public async Task KvServeOnAFullTmpfsRefusesPutsServesReadsAndResumesWithNothingAcknowledgedLost()
    {
        var data = Path.Combine(Path.GetTempPath(), $"flotilla-tmpfs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        if (!SmallDisk.TryMount(data, 16))
        {
            output.WriteLine("cannot mount a tmpfs here; the fault-injecting in-process test covers the same scenario");
            Directory.Delete(data);
            await new Flotilla.Kv.Tests.Real.DiskFullScenario().RunAsync();
            return;
        }
        var filler = Path.Combine(data, "filler");
        try
        {
            var acknowledged = new Dictionary<string, string>();
            await using (var server = await KvServeProcess.StartAsync(data))
            using (var channel = GrpcChannel.ForAddress(server.Address))
            {
                var kv = new Kv.Protos.Kv.KvClient(channel);
                for (var i = 0; i < 5; i++)
                {
                    Assert.Equal(KvError.Ok, (await kv.PutAsync(new PutRequest { Key = $"k{i}", Value = $"v{i}" }, Deadline)).Error);
                    acknowledged[$"k{i}"] = $"v{i}";
                }
                SmallDisk.FillUp(filler);

                RpcException? full = null;
                var big = new string('b', 256 * 1024);
                for (var i = 0; i < 200 && full is null; i++)
                {
                    try
                    {
                        if ((await kv.PutAsync(new PutRequest { Key = $"big{i}", Value = big }, Deadline)).Error == KvError.Ok) acknowledged[$"big{i}"] = big;
                    }
                    catch (RpcException e) { full = e; }
                }
                Assert.NotNull(full);
                output.WriteLine($"{acknowledged.Count} puts acknowledged, then {full.StatusCode}: {full.Status.Detail}");
                Assert.True(full.StatusCode == StatusCode.ResourceExhausted, server.Output);
                Assert.StartsWith($"disk full ({data})", full.Status.Detail);
                var refused = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new PutRequest { Key = "k0", Value = "new", Version = 1 }, Deadline));
                Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
                foreach (var (key, value) in acknowledged) Assert.Equal(value, (await kv.GetAsync(new GetRequest { Key = key }, Deadline)).Value);
                Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(server.Output.Contains("disk full", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)),
                    $"the server did not report the full disk: {server.Output}");

                File.Delete(filler);
                PutReply? resumed = null;
                Assert.True(await ClusterFixture.EventuallyAsync(async () =>
                {
                    try { resumed = await kv.PutAsync(new PutRequest { Key = "after", Value = "space" }, Deadline); }
                    catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted) { }
                    return resumed is not null;
                }, TimeSpan.FromSeconds(30)), "writes did not resume after space was freed");
                Assert.Equal(KvError.Ok, resumed!.Error);
                acknowledged["after"] = "space";
            } // kill -9: nothing is flushed on the way out

            await using var restarted = await KvServeProcess.StartAsync(data);
            using var again = GrpcChannel.ForAddress(restarted.Address);
            var client = new Kv.Protos.Kv.KvClient(again);
            foreach (var (key, value) in acknowledged) Assert.Equal(value, (await client.GetAsync(new GetRequest { Key = key }, Deadline)).Value);
        }
        finally
        {
            SmallDisk.Unmount(data);
            try { Directory.Delete(data, recursive: true); }
            catch (IOException) { }
        }
    }
}
