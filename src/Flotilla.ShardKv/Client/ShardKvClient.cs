using Flotilla.Kv;
using Flotilla.Kv.Client;
using Flotilla.Kv.Protos;
using Flotilla.Runtime;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Rpc;

namespace Flotilla.ShardKv.Client;

/// <summary>
/// The sharded store's client, with the same API and guarantees as <see cref="KvClient"/> (it is an
/// <see cref="IKvClient"/>): it caches the latest configuration, sends each operation to the group owning the key's
/// shard (sticking to the member that answered last), and on WrongGroup, or when a whole group went unanswered,
/// asks the controllers for the latest configuration and retries.
/// <para>The ErrMaybe rule is KvClient's: WrongServer and WrongGroup answers mean "not applied" (the group says so
/// only when the put certainly never applies), a missing answer means "maybe applied", and ErrVersion after a maybe
/// is reported as ErrMaybe. Versions move with a shard's data, so a put retried at the new owner after the old owner
/// applied it can only meet ErrVersion — never apply twice.</para>
/// <para>Not thread-safe by design: use it from one logical thread (a node's scheduler).</para>
/// </summary>
public sealed class ShardKvClient : IKvClient
{
    private readonly IShardChannel _channel;
    private readonly IReadOnlyList<string> _controllers;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly KvClientOptions _options;
    private readonly Dictionary<int, int> _preferred = new();
    private int _controller;

    public ShardKvClient(IShardChannel channel, IReadOnlyList<string> controllers, TimeProvider time, Random random, KvClientOptions? options = null)
    {
        if (controllers.Count == 0) throw new ArgumentException("a sharded KV client needs at least one controller endpoint", nameof(controllers));
        _channel = channel;
        _controllers = controllers;
        _time = time;
        _random = random;
        _options = options ?? new KvClientOptions();
    }

    /// <summary>A client on a simulated or real node, over the node's transport (endpoints are node ids).</summary>
    public static ShardKvClient Over(NodeContext context, IReadOnlyList<string> controllers, KvClientOptions? options = null) =>
        new(new TransportShardChannel(context), controllers, context.Time, context.Random, options);

    /// <summary>The configuration the client routes by (null until the first query answered).</summary>
    public ShardConfig? Config { get; private set; }

    /// <summary>Attempts sent to groups (first tries and retries): for tests and metrics.</summary>
    public long Attempts { get; private set; }

    /// <summary>Wrong-server answers that named the group's leader, which the client then tried next.</summary>
    public long HintsFollowed { get; private set; }

    /// <summary>Controller queries sent (configuration refreshes).</summary>
    public long Refreshes { get; private set; }

    public async Task<KvGetResult> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        if (KvLimits.Validate(new GetRequest { Key = key }) is { } why) return new KvGetResult(KvStatus.InvalidArgument, Detail: why);
        var request = new ShardKvRequest { Key = key };
        var (reply, _, lastError) = await CallWithRetriesAsync(key, (e, gid, t, ct) => _channel.GetAsync(e, gid, request, t, ct), cancellationToken);
        return reply switch
        {
            null => new KvGetResult(KvStatus.Unavailable, Detail: lastError),
            { KvError: KvError.Ok } => new KvGetResult(KvStatus.Ok, reply.Value ?? "", reply.Version),
            { KvError: KvError.ErrNoKey } => new KvGetResult(KvStatus.ErrNoKey),
            _ => throw new InvalidDataException($"a group answered a get with {reply.KvError}"),
        };
    }

    public async Task<KvPutResult> PutAsync(string key, string value, ulong version, CancellationToken cancellationToken = default)
    {
        if (KvLimits.Validate(new PutRequest { Key = key, Value = value, Version = version }) is { } why) return new KvPutResult(KvStatus.InvalidArgument, why);
        var request = new ShardKvRequest { Key = key, Value = value, Version = version };
        var (reply, mayHaveApplied, lastError) = await CallWithRetriesAsync(key, (e, gid, t, ct) => _channel.PutAsync(e, gid, request, t, ct), cancellationToken);
        return reply switch
        {
            null => new KvPutResult(KvStatus.Unavailable, lastError),
            { KvError: KvError.Ok } => new KvPutResult(KvStatus.Ok),
            // No deletes exist, so a key never becomes absent again: ErrNoKey means no attempt was applied.
            { KvError: KvError.ErrNoKey } => new KvPutResult(KvStatus.ErrNoKey),
            { KvError: KvError.ErrVersion } => new KvPutResult(mayHaveApplied ? KvStatus.ErrMaybe : KvStatus.ErrVersion),
            _ => throw new InvalidDataException($"a group answered a put with {reply.KvError}"),
        };
    }

    /// <summary>Asks the controllers (in turn) for the latest configuration; keeps the cached one if none answers.</summary>
    public async Task RefreshAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < _controllers.Count; i++)
        {
            Refreshes++;
            var call = await _channel.QueryAsync(_controllers[_controller], -1, timeout, cancellationToken);
            if (call.Reply is { Error: ControllerError.Ok, Config: { } config })
            {
                if (Config is null || config.Num > Config.Num) Config = config.ToConfig();
                return;
            }
            _controller = (_controller + 1) % _controllers.Count;
        }
    }

    /// <summary>
    /// Sends attempts to the owning group until a member answers from its state machine, or the deadline passes.
    /// Returns that answer (null when none came) and whether an earlier attempt may have been processed.
    /// </summary>
    private async Task<(ShardKvReply? Reply, bool MayHaveApplied, string? LastError)> CallWithRetriesAsync(string key,
        Func<string, int, TimeSpan, CancellationToken, Task<KvCall<ShardKvReply>>> attempt, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var mayHaveApplied = false;
        string? lastError = null;
        var backoff = _options.BackoffMin;
        var next = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Left(started) is { } left && left <= TimeSpan.Zero) return (null, mayHaveApplied, lastError ?? "operation timed out");
            if (Config is null) await RefreshAsync(Timeout(started), cancellationToken);
            if (Config is { } config)
            {
                var gid = config.Shards[ShardMap.ShardOf(key, config.Shards.Count)];
                if (gid != 0 && config.Groups.TryGetValue(gid, out var servers) && servers.Count > 0)
                {
                    // One round: at most one attempt per member, in turn from the preferred one, except that a
                    // wrong-server answer naming the leader sends the next attempt there (and the turn goes on from it).
                    var index = _preferred.GetValueOrDefault(gid) % servers.Count;
                    for (var i = 0; i < servers.Count; i++, index = next)
                    {
                        next = (index + 1) % servers.Count;
                        var timeout = Timeout(started);
                        if (timeout <= TimeSpan.Zero) break;
                        Attempts++;
                        var call = await attempt(servers[index], gid, timeout, cancellationToken);
                        if (call.Reply is { } reply)
                        {
                            if (reply.Status == ShardStatus.Ok)
                            {
                                _preferred[gid] = index;
                                return (reply, mayHaveApplied, lastError);
                            }
                            lastError = $"group {gid} at {servers[index]}: {reply.Status}";
                            // WrongServer: that member applied nothing, try the next. WrongGroup: the group applied
                            // nothing and the configuration moved on; ask the controller.
                            if (reply.Status == ShardStatus.WrongGroup)
                            {
                                _preferred[gid] = index;
                                break;
                            }
                            if (reply is { Status: ShardStatus.WrongServer, Leader: { } leader } && IndexOf(servers, leader) is var hinted && hinted >= 0 && hinted != index)
                            {
                                HintsFollowed++;
                                next = hinted;
                            }
                        }
                        else
                        {
                            mayHaveApplied = true;
                            lastError = $"group {gid} at {servers[index]}: {call.Error}";
                        }
                    }
                }
                else
                {
                    lastError = $"shard of '{key}' has no group in configuration {config.Num}";
                }
            }
            // Back off (with jitter, so many retrying clients do not stampede), then route by the latest configuration.
            var pause = backoff * (0.5 + _random.NextDouble() / 2);
            if (Left(started) is { } remaining && pause > remaining) pause = remaining;
            if (pause > TimeSpan.Zero) await Task.Delay(pause, _time, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.BackoffMax.Ticks));
            await RefreshAsync(Timeout(started), cancellationToken);
        }
    }

    private static int IndexOf(IReadOnlyList<string> servers, string endpoint)
    {
        for (var i = 0; i < servers.Count; i++)
            if (servers[i] == endpoint) return i;
        return -1;
    }

    private TimeSpan? Left(long started) => _options.OperationTimeout is { } limit ? limit - _time.GetElapsedTime(started) : null;

    private TimeSpan Timeout(long started) => Left(started) is { } left && left < _options.AttemptTimeout ? left : _options.AttemptTimeout;
}
