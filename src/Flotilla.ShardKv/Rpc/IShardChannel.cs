using Flotilla.Kv.Client;
using Flotilla.ShardKv.Controller;

namespace Flotilla.ShardKv.Rpc;

/// <summary>
/// How the sharded store's clients and group drivers reach controllers and groups, addressed by the endpoint strings
/// the configurations carry (<see cref="ShardConfig.Groups"/>). One attempt at one endpoint per call; a channel never
/// throws for network trouble, never outlives <c>timeout</c>, and reports a failed or unanswered call as
/// <see cref="KvCallOutcome.NoAnswer"/> (the request may or may not have been processed).
/// <para><see cref="TransportShardChannel"/> carries these over a node's ITransport (simulation, framed TCP); a gRPC
/// channel implements the same five calls against the typed entry points of <see cref="Server.ShardGroupServer"/> and
/// <see cref="Server.ShardControllerServer"/>.</para>
/// </summary>
public interface IShardChannel
{
    /// <summary>Controller: configuration <paramref name="num"/> (-1 or past the end = the latest), a linearizable read.</summary>
    Task<KvCall<ControllerReply>> QueryAsync(string endpoint, int num, TimeSpan timeout, CancellationToken cancellationToken);

    Task<KvCall<ShardKvReply>> GetAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    Task<KvCall<ShardKvReply>> PutAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Group to group: the shards the caller gained in configuration <c>request.Num</c>, from their previous owner.</summary>
    Task<KvCall<ShardMoveReply>> PullAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Group to group: the caller installed these shards; the previous owner deletes its copy and says Ok when gone.</summary>
    Task<KvCall<ShardMoveReply>> DeleteAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>The endpoint string configurations use for Raft member <paramref name="member"/>, for a wrong-server
    /// answer's leader hint; null when this channel cannot tell (then clients go on in turn).</summary>
    string? EndpointOfMember(Flotilla.Runtime.NodeId member) => null;
}
