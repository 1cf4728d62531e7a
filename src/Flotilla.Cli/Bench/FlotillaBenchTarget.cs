using Flotilla.Kv.Client;

namespace Flotilla.Cli.Bench;

/// <summary>
/// Drives Flotilla's KV through its public client (<see cref="KvClient"/> over <see cref="GrpcKvChannel"/>), exactly
/// as an application would: each session is its own client with its own HTTP/2 connection(s), which retries across
/// endpoints (a follower answers ERR_WRONG_SERVER) until the request deadline.
/// </summary>
/// <param name="readAnyMember">Gets start at a random member (<see cref="KvClientOptions.ReadFromAnyMember"/>), for
/// a group serving follower reads.</param>
public sealed class FlotillaBenchTarget(IReadOnlyList<Uri> endpoints, bool readAnyMember = false) : IBenchTarget
{
    public string Name => "flotilla";

    public string Description => string.Join(",", endpoints.Select(e => e.Authority));

    public IBenchSession OpenSession(int clientIndex, TimeSpan requestTimeout)
    {
        // Start each client at a different endpoint so a leaderless (any-node) store spreads the load; a replicated
        // store moves every client to the leader after its first ERR_WRONG_SERVER.
        var rotated = endpoints.Skip(clientIndex % endpoints.Count).Concat(endpoints.Take(clientIndex % endpoints.Count)).ToArray();
        var channel = new GrpcKvChannel(rotated);
        var client = new KvClient(channel, TimeProvider.System, new Random(clientIndex), new KvClientOptions
        {
            AttemptTimeout = requestTimeout,
            OperationTimeout = requestTimeout,
            ReadFromAnyMember = readAnyMember,
        });
        return new Session(channel, client);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>One client's session (also used by the sharded target, with its own client and channel).</summary>
    internal sealed class Session(IDisposable channel, IKvClient client) : IBenchSession
    {
        public async Task<BenchRead> GetAsync(string key, CancellationToken cancellationToken)
        {
            var result = await client.GetAsync(key, cancellationToken);
            return new BenchRead(Map(result.Status), result.Value, checked((long)result.Version), result.Detail);
        }

        public async Task<BenchWrite> PutAsync(string key, string value, long expectedVersion, CancellationToken cancellationToken)
        {
            var result = await client.PutAsync(key, value, checked((ulong)expectedVersion), cancellationToken);
            // A conditional put that succeeded was applied on top of exactly the version it named.
            return new BenchWrite(Map(result.Status), result.IsOk ? expectedVersion : null, result.Detail);
        }

        private static BenchStatus Map(KvStatus status) => status switch
        {
            KvStatus.Ok => BenchStatus.Ok,
            KvStatus.ErrNoKey => BenchStatus.ErrNoKey,
            KvStatus.ErrVersion => BenchStatus.ErrVersion,
            KvStatus.ErrMaybe => BenchStatus.ErrMaybe,
            KvStatus.Unavailable => BenchStatus.Unavailable,
            _ => BenchStatus.Rejected,
        };

        public ValueTask DisposeAsync()
        {
            channel.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
