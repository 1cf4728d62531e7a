using Flotilla.Cli.Commands;
using Flotilla.Kv.Client;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Server.Tests;

/// <summary>A few KV clients doing recorded read-then-conditional-put on few keys against a real cluster, for tests
/// that change the cluster under load: every operation goes into one history, checked at the end by
/// <c>flotilla check</c>, and every acknowledged write is read back.</summary>
internal sealed class KvLoad : IAsyncDisposable
{
    private readonly int Keys;
    private readonly HistoryRecorder<KvInput, KvOutput> _recorder = VersionedKv.CreateRecorder();
    private readonly long[] _acknowledged; // highest version an OK put created, per key
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients;
    private readonly IReadOnlyList<Uri> _endpoints;
    private int _okPuts;

    public KvLoad(IEnumerable<string> endpoints, int clients = 4, int keys = 6)
    {
        Keys = keys;
        _acknowledged = new long[keys];
        _endpoints = endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList();
        _clients = Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientLoopAsync(c))).ToList();
    }

    public int OkPuts => Volatile.Read(ref _okPuts);

    /// <summary>Waits until <paramref name="more"/> further puts were acknowledged: the cluster makes progress.</summary>
    public async Task ProgressAsync(int more, string what)
    {
        var before = OkPuts;
        Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(OkPuts >= before + more), TimeSpan.FromSeconds(30)), $"no progress {what}");
    }

    /// <summary>Stops the clients, reads every key back through <paramref name="endpoints"/> (at least at the version
    /// its last acknowledged put created), and checks the whole history with <c>flotilla check</c>.</summary>
    public async Task StopAndCheckAsync(IEnumerable<string> endpoints, string directory)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        using var channel = new GrpcKvChannel(endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList());
        var reader = new KvClient(channel, TimeProvider.System, new Random(99), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(30) });
        for (var k = 0; k < Keys; k++)
        {
            var op = _recorder.Begin(100, KvInput.Get(Key(k)));
            var got = await reader.GetAsync(Key(k));
            Assert.True(got.IsOk || (got.Status == KvStatus.ErrNoKey && _acknowledged[k] == 0), $"final read of {Key(k)}: {got.Status}");
            op.End(got.IsOk ? KvOutput.Read(got.Value!, (long)got.Version) : KvOutput.NoKey);
            Assert.True((long)got.Version >= _acknowledged[k], $"{Key(k)} is at version {got.Version} but a put to version {_acknowledged[k]} was acknowledged");
        }
        var path = Path.Combine(directory, "history.json");
        _recorder.Save(path);
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(["check", path, "--timeout", "120s"], output, output);
        Assert.True(code == 0, $"flotilla check said: {output}");
        Assert.Contains("linearizable", output.ToString());
    }

    private static string Key(int k) => $"key-{k}";

    private async Task ClientLoopAsync(int id)
    {
        using var channel = new GrpcKvChannel(_endpoints);
        var random = new Random(id);
        var client = new KvClient(channel, TimeProvider.System, random, new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(5) });
        var n = 0;
        while (!_stop.IsCancellationRequested)
        {
            var k = random.Next(Keys);
            var get = _recorder.Begin(id, KvInput.Get(Key(k)));
            var read = await client.GetAsync(Key(k));
            if (read.Status == KvStatus.Unavailable) continue; // no answer: the read stays open in the history
            get.End(read.IsOk ? KvOutput.Read(read.Value!, (long)read.Version) : KvOutput.NoKey);
            var version = read.IsOk ? read.Version : 0;
            var value = $"c{id}-{n++}";
            var put = _recorder.Begin(id, KvInput.Put(Key(k), value, (long)version));
            var wrote = await client.PutAsync(Key(k), value, version);
            switch (wrote.Status)
            {
                case KvStatus.Ok:
                    put.End(KvOutput.Ok);
                    InterlockedMax(ref _acknowledged[k], (long)version + 1);
                    Interlocked.Increment(ref _okPuts);
                    break;
                case KvStatus.ErrVersion: put.End(KvOutput.VersionMismatch); break;
                case KvStatus.ErrNoKey: put.End(KvOutput.NoKey); break;
                case KvStatus.ErrMaybe: put.End(KvOutput.Maybe); break;
                default: break; // Unavailable: outcome unknown, the operation never returns in the history
            }
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_clients); }
        catch (Exception) { } // the test already failed; do not hide why
        _stop.Dispose();
    }
}
