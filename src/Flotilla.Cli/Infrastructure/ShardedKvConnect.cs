using Flotilla.Kv.Client;
using Flotilla.Server.Cluster;
using Flotilla.Server.Sharding;
using Flotilla.ShardKv.Client;

namespace Flotilla.Cli.Infrastructure;

/// <summary>The client for a sharded store's <c>cluster.json</c>: a <see cref="ShardKvClient"/> over the real network
/// (<see cref="GrpcShardChannel"/>), asking the controller at every process of the cluster.</summary>
public static class ShardedKvConnect
{
    public static (IKvClient Client, IDisposable Channel) Create(ShardedClusterFile file, KvClientOptions options, Random random)
    {
        var channel = new GrpcShardChannel();
        return (new ShardKvClient(channel, file.Endpoints, TimeProvider.System, random, options), channel);
    }
}
