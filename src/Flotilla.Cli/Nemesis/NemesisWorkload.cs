using Flotilla.Kv.Client;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using Flotilla.Server.Sharding;
using Flotilla.ShardKv.Client;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// Contended traffic: many clients on few keys, each doing reads and read-then-conditional-put (Get, then Put at the
/// version read), every request recorded in the history. A request with no answer in time is left never-returned
/// (it may still be applied later, docs/history-format.md); ErrMaybe is recorded as returned ErrMaybe. Remembers the
/// latest acknowledged write of each key, which must be readable after healing.
/// </summary>
public sealed class NemesisWorkload(NemesisClients connect, int clients, int keys, long seed, HistoryRecorder<KvInput, KvOutput> history)
{
    /// <summary>Per attempt and per operation: short, so clients move on from a cut-off node, yet long enough for an election.</summary>
    public static readonly KvClientOptions ClientOptions = new()
    {
        AttemptTimeout = TimeSpan.FromMilliseconds(500),
        OperationTimeout = TimeSpan.FromSeconds(3),
        BackoffMax = TimeSpan.FromMilliseconds(200),
    };

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Version, string Value)> _acked = [];
    private long _maybe;

    public static string Key(int index) => $"k{index}";

    public IEnumerable<string> Keys => Enumerable.Range(0, keys).Select(Key);

    /// <summary>ErrMaybe puts and requests left without an answer.</summary>
    public long Maybe => Interlocked.Read(ref _maybe);

    /// <summary>The highest acknowledged version of each key and the value written with it.</summary>
    public IReadOnlyDictionary<string, (long Version, string Value)> Acknowledged
    {
        get { lock (_lock) return new Dictionary<string, (long, string)>(_acked); }
    }

    /// <summary>Runs until <paramref name="stop"/>, finishing the operations in flight (each is bounded by its
    /// timeout); <paramref name="abort"/> (Ctrl-C) abandons them.</summary>
    public Task RunAsync(CancellationToken stop, CancellationToken abort) =>
        Task.WhenAll(Enumerable.Range(1, clients).Select(c => Task.Run(() => ClientLoopAsync(c, stop, abort))));

    private async Task ClientLoopAsync(int client, CancellationToken stop, CancellationToken abort)
    {
        var random = new Random(unchecked((int)seed * 7919 + client));
        var (kv, channel) = connect(random);
        using var _ = channel;
        var sequence = 0;
        while (!stop.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            var key = Key(random.Next(keys));
            try
            {
                var read = await GetAsync(kv, client, key, abort);
                if (random.Next(100) < 40 || read is null || stop.IsCancellationRequested) continue;
                await PutAsync(kv, client, key, $"c{client}-{++sequence}", read.Value, abort);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>One recorded Get; returns the version it read (0 for an absent key), or null without an answer.</summary>
    public async Task<long?> GetAsync(IKvClient kv, int client, string key, CancellationToken ct)
    {
        var result = await ReadAsync(kv, client, key, ct);
        return result.Status switch
        {
            KvStatus.Ok => (long)result.Version,
            KvStatus.ErrNoKey => 0,
            _ => null,
        };
    }

    /// <summary>One recorded Get, with everything the client reported.</summary>
    public async Task<KvGetResult> ReadAsync(IKvClient kv, int client, string key, CancellationToken ct)
    {
        var op = history.Begin(client, KvInput.Get(key));
        var result = await kv.GetAsync(key, ct);
        switch (result.Status)
        {
            case KvStatus.Ok:
                op.End(KvOutput.Read(result.Value ?? "", (long)result.Version));
                break;
            case KvStatus.ErrNoKey:
                op.End(KvOutput.NoKey);
                break;
            default:
                Interlocked.Increment(ref _maybe);
                break;
        }
        return result;
    }

    /// <summary>One recorded conditional Put; returns what the client reported.</summary>
    public async Task<KvStatus> PutAsync(IKvClient kv, int client, string key, string value, long version, CancellationToken ct)
    {
        var op = history.Begin(client, KvInput.Put(key, value, version));
        var result = await kv.PutAsync(key, value, (ulong)version, ct);
        switch (result.Status)
        {
            case KvStatus.Ok:
                op.End(KvOutput.Ok);
                lock (_lock)
                    if (!_acked.TryGetValue(key, out var known) || known.Version < version + 1) _acked[key] = (version + 1, value);
                break;
            case KvStatus.ErrVersion:
                op.End(KvOutput.VersionMismatch);
                break;
            case KvStatus.ErrNoKey:
                op.End(KvOutput.NoKey);
                break;
            case KvStatus.ErrMaybe:
                op.End(KvOutput.Maybe);
                Interlocked.Increment(ref _maybe);
                break;
            default:
                // Unavailable: no answer in time; the request may still be applied. Never returned.
                Interlocked.Increment(ref _maybe);
                break;
        }
        return result.Status;
    }
}

/// <summary>Opens one client of the store under test with its own connections (disposed by the caller).</summary>
public delegate (IKvClient Client, IDisposable Connections) NemesisClients(Random random);

/// <summary>The client each kind of store is used through, as a user would.</summary>
public static class NemesisConnect
{
    /// <summary>The replicated KV: <see cref="KvClient"/> over every member's endpoint.</summary>
    public static NemesisClients Replicated(IReadOnlyList<Uri> endpoints) => random =>
    {
        var channel = new GrpcKvChannel(endpoints);
        return (new KvClient(channel, TimeProvider.System, random, NemesisWorkload.ClientOptions), channel);
    };

    /// <summary>The sharded store: <see cref="ShardKvClient"/>, which asks the controller where each shard is and
    /// follows moves.</summary>
    public static NemesisClients Sharded(IReadOnlyList<Uri> endpoints) => random =>
    {
        var channel = new GrpcShardChannel();
        var controllers = endpoints.Select(e => e.ToString().TrimEnd('/')).ToList();
        return (new ShardKvClient(channel, controllers, TimeProvider.System, random, NemesisWorkload.ClientOptions), channel);
    };
}
