using Flotilla.Kv.Protos;
using Flotilla.Runtime;

namespace Flotilla.Kv.Client;

/// <summary>
/// The retrying KV client. A lost request is sent again (to the same endpoints in turn) until some server answers
/// or <see cref="KvClientOptions.OperationTimeout"/> passes.
/// <para>Puts are at most once without any server-side client table: a put at version v can only succeed while the
/// key is at v, and success moves it to v+1, so a duplicate of an applied put is always refused with ErrVersion.
/// That refusal is ambiguous after a retry (was it our own earlier attempt?), hence: ErrVersion on the first attempt
/// is ErrVersion, ErrVersion after an attempt that may have been processed is ErrMaybe.</para>
/// <para>Not thread-safe by design: use it from one logical thread (a node's scheduler); one operation at a time per
/// client is the usual pattern, though concurrent operations are also correct.</para>
/// </summary>
public sealed class KvClient : IKvClient
{
    private readonly IKvChannel _channel;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly KvClientOptions _options;
    private int _preferred;

    public KvClient(IKvChannel channel, TimeProvider time, Random random, KvClientOptions? options = null)
    {
        if (channel.EndpointCount == 0) throw new ArgumentException("a KV client needs at least one endpoint", nameof(channel));
        _channel = channel;
        _time = time;
        _random = random;
        _options = options ?? new KvClientOptions();
    }

    /// <summary>A client on a simulated or real node, talking over the node's transport.</summary>
    public static KvClient Over(NodeContext context, IReadOnlyList<NodeId> servers, KvClientOptions? options = null) =>
        new(new TransportKvChannel(context.Transport, context.Time, servers), context.Time, context.Random, options);

    /// <summary>Attempts sent by this client (first tries and retries): for tests and metrics.</summary>
    public long Attempts { get; private set; }

    /// <summary>Wrong-server answers received, and how many of them named a leader the client then went to directly.</summary>
    public long HintsReceived { get; private set; }

    public long HintsFollowed { get; private set; }

    public async Task<KvGetResult> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var request = new GetRequest { Key = key };
        if (KvLimits.Validate(request) is { } why) return new KvGetResult(KvStatus.InvalidArgument, Detail: why);
        var (call, _, lastError) = await CallWithRetriesAsync((e, t, ct) => _channel.GetAsync(e, request, t, ct), cancellationToken, _options.ReadFromAnyMember);
        return call.Outcome switch
        {
            KvCallOutcome.Rejected => new KvGetResult(KvStatus.InvalidArgument, Detail: call.Error),
            KvCallOutcome.NoAnswer => new KvGetResult(KvStatus.Unavailable, Detail: lastError),
            _ => call.Reply!.Error switch
            {
                KvError.Ok => new KvGetResult(KvStatus.Ok, call.Reply.Value, call.Reply.Version),
                KvError.ErrNoKey => new KvGetResult(KvStatus.ErrNoKey),
                var other => throw new InvalidDataException($"a server answered a get with {other}"),
            },
        };
    }

    public async Task<KvPutResult> PutAsync(string key, string value, ulong version, CancellationToken cancellationToken = default)
    {
        var request = new PutRequest { Key = key, Value = value, Version = version };
        if (KvLimits.Validate(request) is { } why) return new KvPutResult(KvStatus.InvalidArgument, why);
        var (call, mayHaveApplied, lastError) = await CallWithRetriesAsync((e, t, ct) => _channel.PutAsync(e, request, t, ct), cancellationToken);
        return call.Outcome switch
        {
            KvCallOutcome.Rejected => new KvPutResult(KvStatus.InvalidArgument, call.Error),
            KvCallOutcome.NoAnswer => new KvPutResult(KvStatus.Unavailable, lastError),
            _ => call.Reply!.Error switch
            {
                KvError.Ok => new KvPutResult(KvStatus.Ok),
                // No deletes exist, so a key never becomes absent again: ErrNoKey means no attempt was applied.
                KvError.ErrNoKey => new KvPutResult(KvStatus.ErrNoKey),
                KvError.ErrVersion => new KvPutResult(mayHaveApplied ? KvStatus.ErrMaybe : KvStatus.ErrVersion),
                var other => throw new InvalidDataException($"a server answered a put with {other}"),
            },
        };
    }

    /// <summary>
    /// Sends attempts, rotating through endpoints, until one is answered (or rejected), or the deadline passes.
    /// Returns the final call and whether any earlier attempt may have been processed (went unanswered).
    /// </summary>
    private async Task<(KvCall<T> Call, bool MayHaveApplied, string? LastError)> CallWithRetriesAsync<T>(
        Func<int, TimeSpan, CancellationToken, Task<KvCall<T>>> attempt, CancellationToken cancellationToken, bool anyMember = false) where T : class
    {
        var started = _time.GetTimestamp();
        var mayHaveApplied = false;
        string? lastError = null;
        var backoff = _options.BackoffMin;
        var unansweredInRound = 0;
        var endpoint = anyMember ? _random.Next(_channel.EndpointCount) : _preferred;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var timeout = _options.AttemptTimeout;
            if (_options.OperationTimeout is { } limit)
            {
                var left = limit - _time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero) return (KvCall<T>.Lost(lastError), mayHaveApplied, lastError ?? "operation timed out");
                if (left < timeout) timeout = left;
            }
            Attempts++;
            var call = await attempt(endpoint, timeout, cancellationToken);
            if (call.Outcome == KvCallOutcome.Answered && call.Reply is PutReply { Error: KvError.ErrWrongServer } or GetReply { Error: KvError.ErrWrongServer })
            {
                // That endpoint cannot serve us (not a leader); it applied nothing. Move on at once: to the leader it
                // names if we can reach that one, else to the next in turn. A hint still counts as one try of the
                // round, so stale hints bouncing between two followers end in the same backoff as no hint.
                HintsReceived++;
                var hinted = (call.Reply as PutReply)?.Leader ?? (call.Reply as GetReply)?.Leader;
                if (hinted is not null && _channel.EndpointOf(hinted) is { } leader && leader != endpoint && unansweredInRound + 1 < _channel.EndpointCount)
                {
                    unansweredInRound++;
                    HintsFollowed++;
                    lastError = $"{_channel.DescribeEndpoint(endpoint)}: not serving (leader is {_channel.DescribeEndpoint(leader)})";
                    endpoint = leader;
                    continue;
                }
                call = KvCall<T>.Lost($"{_channel.DescribeEndpoint(endpoint)} is not serving");
            }
            else if (call.Outcome != KvCallOutcome.NoAnswer)
            {
                if (!anyMember) _preferred = endpoint;
                return (call, mayHaveApplied, lastError);
            }
            else
            {
                mayHaveApplied = true;
            }
            lastError = $"{_channel.DescribeEndpoint(endpoint)}: {call.Error}";
            endpoint = (endpoint + 1) % _channel.EndpointCount;
            if (++unansweredInRound < _channel.EndpointCount) continue;
            // Everyone was tried: back off (with jitter, so many retrying clients do not stampede in lockstep).
            unansweredInRound = 0;
            var pause = backoff * (0.5 + _random.NextDouble() / 2);
            if (_options.OperationTimeout is { } cap && _time.GetElapsedTime(started) + pause > cap) pause = cap - _time.GetElapsedTime(started);
            if (pause > TimeSpan.Zero) await Task.Delay(pause, _time, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.BackoffMax.Ticks));
        }
    }
}
