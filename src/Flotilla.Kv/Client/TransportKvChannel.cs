using Flotilla.Kv.Protos;
using Flotilla.Kv.Server;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Google.Protobuf;

namespace Flotilla.Kv.Client;

/// <summary>Reaches KV servers through a node's <see cref="ITransport"/> (methods kv/get, kv/put; protobuf bytes).</summary>
public sealed class TransportKvChannel(ITransport transport, TimeProvider time, IReadOnlyList<NodeId> servers) : IKvChannel
{
    public TransportKvChannel(NodeContext context, params NodeId[] servers) : this(context.Transport, context.Time, servers) { }

    public int EndpointCount => servers.Count;

    public string DescribeEndpoint(int endpoint) => servers[endpoint].ToString();

    /// <summary>Over the peer transport a member's id is its address: only members of the list are dialled.</summary>
    public int? EndpointOf(LeaderHint hint)
    {
        for (var i = 0; i < servers.Count; i++)
            if (servers[i].Value == hint.Id) return i;
        return null;
    }

    public Task<KvCall<GetReply>> GetAsync(int endpoint, GetRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, KvServer.GetMethod, request, GetReply.Parser, timeout, cancellationToken);

    public Task<KvCall<PutReply>> PutAsync(int endpoint, PutRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, KvServer.PutMethod, request, PutReply.Parser, timeout, cancellationToken);

    private async Task<KvCall<TReply>> CallAsync<TReply>(int endpoint, string method, IMessage request, MessageParser<TReply> parser,
        TimeSpan timeout, CancellationToken cancellationToken) where TReply : class, IMessage<TReply>
    {
        var reply = await transport.CallAsync(servers[endpoint], method, request.ToByteArray(), timeout, time, cancellationToken);
        switch (reply.Status)
        {
            case RpcStatus.Ok:
                try { return KvCall<TReply>.Answer(parser.ParseFrom(reply.Payload.Span)); }
                catch (InvalidProtocolBufferException e) { return KvCall<TReply>.Lost($"undecodable reply: {e.Message}"); }
            case RpcStatus.Failed when reply.Error?.StartsWith(KvInvalidArgumentException.Prefix, StringComparison.Ordinal) == true:
                return KvCall<TReply>.Reject(reply.Error[KvInvalidArgumentException.Prefix.Length..]);
            default:
                // Timeout, unreachable, or a server that failed for another reason (e.g. not serving KV yet): try again.
                return KvCall<TReply>.Lost(reply.ToString());
        }
    }
}
