using Flotilla.Kv.Client;
using Flotilla.Kv.Lock;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using Flotilla.Server.Sharding;
using Flotilla.ShardKv.Client;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// Contended traffic: many clients on few keys, each doing reads and read-then-conditional-put (Get, then Put at the
/// version read), plus lock clients that take turns holding a <see cref="KvLock"/> on one key and bump a counter
/// under it; every request (the lock's own reads, takes, renewals and releases included) recorded in the history. A request with no answer in time is left never-returned
/// (it may still be applied later, docs/history-format.md); ErrMaybe is recorded as returned ErrMaybe. Remembers the
/// latest acknowledged write of each key, which must be readable after healing.
/// </summary>
public sealed class NemesisWorkload(NemesisClients connect, int clients, int keys, long seed, HistoryRecorder<KvInput, KvOutput> history,
    int lockClients = 0)
{
    public const string LockKey = "lock";
    public const string LockedCounterKey = "locked-counter";

    /// <summary>Short enough for several hand-overs in a 12 s run; renewals well inside the trusted part of the lease.</summary>
    public static readonly KvLockOptions LockOptions = new()
    {
        Lease = TimeSpan.FromSeconds(1.5),
        RenewInterval = TimeSpan.FromMilliseconds(300),
        PollInterval = TimeSpan.FromMilliseconds(50),
    };

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

    /// <summary>Every hold of the lock the lock clients saw.</summary>
    public LockHolds Holds { get; } = new();

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
        Task.WhenAll(Enumerable.Range(1, clients).Select(c => Task.Run(() => ClientLoopAsync(c, stop, abort)))
            .Concat(Enumerable.Range(1, lockClients).Select(l => Task.Run(() => LockLoopAsync(l, stop, abort)))));

    /// <summary>
    /// Lock client <paramref name="index"/>: acquire, bump the counter (read, put at the version read), hold a little,
    /// release; again until stopped. Its lock requests are recorded as history client <c>clients + 2·index − 1</c>
    /// and its counter requests as <c>clients + 2·index</c> (a renewal may run while the holder works). Each hold goes
    /// into <see cref="Holds"/> with the end of the holder's trust, for the mutual-exclusion check.
    /// </summary>
    private async Task LockLoopAsync(int index, CancellationToken stop, CancellationToken abort)
    {
        var random = new Random(unchecked((int)seed * 104729 + index));
        var (kv, channel) = connect(random);
        using var _ = channel;
        var lockClient = clients + 2 * index - 1;
        var counterClient = clients + 2 * index;
        var recorded = new RecordedKvClient(this, lockClient, kv);
        // Stopping lets a waiter finish acquiring (bounded: a holder that stops releases first, and an acquire that
        // finds the store unavailable returns) and a holder finish its section and release, like the other clients'
        // operations in flight; only abort cuts them off.
        while (!stop.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            await using var held = new KvLock(recorded, LockKey, TimeProvider.System, random, LockOptions);
            try
            {
                if (!await held.AcquireAsync(abort))
                {
                    await Task.Delay(100, abort);
                    continue;
                }
                var from = TimeProvider.System.GetTimestamp();
                if (await GetAsync(kv, counterClient, LockedCounterKey, abort) is { } version)
                    await PutAsync(kv, counterClient, LockedCounterKey, $"l{index}-{held.FencingToken}", version, abort);
                await Task.Delay(random.Next(50, 300), abort);
                Holds.Add(new LockHold(index, from, Math.Min(TimeProvider.System.GetTimestamp(), held.ValidUntil), held.FencingToken));
                await held.ReleaseAsync(abort);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>The lock's view of the store: every request it makes is recorded like the workload's own.</summary>
    private sealed class RecordedKvClient(NemesisWorkload workload, int client, IKvClient inner) : IKvClient
    {
        public Task<KvGetResult> GetAsync(string key, CancellationToken cancellationToken = default) =>
            workload.ReadAsync(inner, client, key, cancellationToken);

        public async Task<KvPutResult> PutAsync(string key, string value, ulong version, CancellationToken cancellationToken = default) =>
            new(await workload.PutAsync(inner, client, key, value, (long)version, cancellationToken));
    }

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
