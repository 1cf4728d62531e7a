using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Client;
using Flotilla.Server.Cluster;

namespace Flotilla.Cli.Bench;

/// <summary>
/// Drives a sharded store through its public client (<c>ShardKvClient</c> over <c>GrpcShardChannel</c>): each
/// session is its own client with its own connections, routing each key to its shard's group and following moves.
/// </summary>
public sealed class ShardedBenchTarget(ShardedClusterFile file) : IBenchTarget
{
    public string Name => "flotilla-sharded";

    public string Description => $"{file.Groups.Count} groups over {file.Shards} shards at {string.Join(",", file.Endpoints.Select(e => new Uri(e).Authority))}";

    public IBenchSession OpenSession(int clientIndex, TimeSpan requestTimeout)
    {
        var (client, channel) = ShardedKvConnect.Create(file, new KvClientOptions
        {
            AttemptTimeout = requestTimeout,
            OperationTimeout = requestTimeout,
        }, new Random(clientIndex));
        return new FlotillaBenchTarget.Session(channel, client);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
