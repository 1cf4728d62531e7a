using Flotilla.Kv.Client;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.ShardKv.Controller;

namespace Flotilla.ShardKv.Rpc;

/// <summary>
/// <see cref="IShardChannel"/> over a node's <see cref="ITransport"/>: endpoints are node ids as configurations in
/// simulation name them ("n4"), bodies are the JSON records of Rpc/ShardMessages.cs.
/// </summary>
public sealed class TransportShardChannel(ITransport transport, TimeProvider time) : IShardChannel
{
    public TransportShardChannel(NodeContext context) : this(context.Transport, context.Time) { }

    /// <summary>The endpoint string of a node: what configurations carry in simulation.</summary>
    public static string EndpointOf(NodeId id) => id.ToString();

    public string? EndpointOfMember(NodeId member) => EndpointOf(member);

    public static NodeId? NodeOf(string endpoint) =>
        endpoint.Length > 1 && endpoint[0] == 'n' && int.TryParse(endpoint.AsSpan(1), out var v) ? new NodeId(v) : null;

    public Task<KvCall<ControllerReply>> QueryAsync(string endpoint, int num, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, ShardMethods.Query, ControllerCommand.Query(num), b => ControllerReply.Decode(b), timeout, cancellationToken);

    public Task<KvCall<ShardKvReply>> GetAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, ShardMethods.Get(gid), request.Encode(), b => ShardKvReply.Decode(b), timeout, cancellationToken);

    public Task<KvCall<ShardKvReply>> PutAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, ShardMethods.Put(gid), request.Encode(), b => ShardKvReply.Decode(b), timeout, cancellationToken);

    public Task<KvCall<ShardMoveReply>> PullAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, ShardMethods.Pull(gid), request.Encode(), b => ShardMoveReply.Decode(b), timeout, cancellationToken);

    public Task<KvCall<ShardMoveReply>> DeleteAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, ShardMethods.Delete(gid), request.Encode(), b => ShardMoveReply.Decode(b), timeout, cancellationToken);

    /// <summary>Submits a controller command (join, leave, move) to one controller replica: for tests and tools.</summary>
    public Task<KvCall<ControllerReply>> SubmitAsync(string endpoint, byte[] command, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, ShardMethods.Submit, command, b => ControllerReply.Decode(b), timeout, cancellationToken);

    private async Task<KvCall<T>> CallAsync<T>(string endpoint, string method, byte[] request, Func<byte[], T> decode,
        TimeSpan timeout, CancellationToken cancellationToken) where T : class
    {
        if (NodeOf(endpoint) is not { } node) return KvCall<T>.Lost($"'{endpoint}' is not a node id");
        var reply = await transport.CallAsync(node, method, request, timeout, time, cancellationToken);
        if (!reply.IsOk) return KvCall<T>.Lost(reply.ToString());
        try { return KvCall<T>.Answer(decode(reply.Payload.ToArray())); }
        catch (InvalidDataException e) { return KvCall<T>.Lost($"undecodable reply: {e.Message}"); }
    }
}
