using System.Collections.Concurrent;
using Flotilla.Kv;
using Flotilla.Kv.Client;
using Flotilla.Kv.Protos;
using Flotilla.ShardCtl.Protos;
using Flotilla.ShardGroup.Protos;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Rpc;
using Flotilla.Transport.Grpc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Sharding;

/// <summary>
/// <see cref="IShardChannel"/> over the real network, for the sharded store's client (<c>ShardKvClient</c>) and for
/// every group leader's migration driver. Endpoints are the processes' gRPC addresses as configurations carry them
/// (<c>http://127.0.0.1:7001</c>): controller queries go to <c>flotilla.shardctl.v1.ShardCtl.Query</c>, gets and
/// puts to the public <c>flotilla.kv.v1.Kv</c> (the group named in a <c>flotilla-gid</c> header, a routing hint),
/// pull and delete to <c>flotilla.shardgroup.v1.ShardGroup.Call</c>, which carry a <see cref="ClusterCallProof"/> of the
/// request when the channel has the cluster's credentials. One HTTP/2 channel per endpoint, created on
/// first use; never throws for network trouble (an unanswered call is <see cref="KvCallOutcome.NoAnswer"/>).
/// </summary>
public sealed class GrpcShardChannel(ClusterCredentials? credentials = null) : IShardChannel, IDisposable
{
    /// <summary>What the proof of a <c>ShardGroup.Call</c> covers (with <see cref="GroupCallMessage"/>).</summary>
    public const string GroupCallPurpose = "flotilla.shardgroup.v1.ShardGroup/Call";

    /// <summary>The request header naming the group a Kv request is meant for.</summary>
    public const string GidHeader = "flotilla-gid";

    private readonly ConcurrentDictionary<string, Lazy<Clients>> _clients = new();

    private sealed record Clients(GrpcChannel Channel, ShardCtl.Protos.ShardCtl.ShardCtlClient Ctl, Kv.Protos.Kv.KvClient Kv, ShardGroup.Protos.ShardGroup.ShardGroupClient Group);

    private Clients For(string endpoint) => _clients.GetOrAdd(endpoint, e => new Lazy<Clients>(() =>
    {
        var channel = GrpcChannel.ForAddress(e.Contains("://", StringComparison.Ordinal) ? e : "http://" + e, new GrpcChannelOptions
        {
            // A pulled shard carries all of its keys: allow far more than one KV value.
            MaxReceiveMessageSize = 256 << 20,
            MaxSendMessageSize = 256 << 20,
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1), EnableMultipleHttp2Connections = true },
        });
        return new Clients(channel, new ShardCtl.Protos.ShardCtl.ShardCtlClient(channel), new Kv.Protos.Kv.KvClient(channel), new ShardGroup.Protos.ShardGroup.ShardGroupClient(channel));
    })).Value;

    public Task<KvCall<ControllerReply>> QueryAsync(string endpoint, int num, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, async (c, o) => ShardCtlMapping.FromProto(await c.Ctl.QueryAsync(new QueryRequest { Num = num }, o)), timeout, cancellationToken);

    public Task<KvCall<ShardKvReply>> GetAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, async (c, o) =>
        {
            var reply = await c.Kv.GetAsync(new GetRequest { Key = request.Key }, o.WithHeaders(Gid(gid)));
            return Map(reply.Error) with { Value = reply.Value, Version = reply.Version };
        }, timeout, cancellationToken);

    public Task<KvCall<ShardKvReply>> PutAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, async (c, o) =>
        {
            var reply = await c.Kv.PutAsync(new PutRequest { Key = request.Key, Value = request.Value ?? "", Version = request.Version }, o.WithHeaders(Gid(gid)));
            return Map(reply.Error);
        }, timeout, cancellationToken);

    public Task<KvCall<ShardMoveReply>> PullAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        GroupCallAsync(endpoint, gid, "pull", request, timeout, cancellationToken);

    public Task<KvCall<ShardMoveReply>> DeleteAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        GroupCallAsync(endpoint, gid, "delete", request, timeout, cancellationToken);

    private Task<KvCall<ShardMoveReply>> GroupCallAsync(string endpoint, int gid, string method, ShardMoveRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(endpoint, async (c, o) =>
        {
            var call = new GroupCallRequest { Gid = gid, Method = method, Payload = ByteString.CopyFrom(request.Encode()) };
            if (credentials is not null)
                o = o.WithHeaders(new Metadata { { ClusterCallProof.Header, ClusterCallProof.Compute(credentials, GroupCallPurpose, GroupCallMessage(call)) } });
            var reply = await c.Group.CallAsync(call, o);
            // Not hosted there (a stale member list): as good as a follower's refusal.
            return reply.Handled ? ShardMoveReply.Decode(reply.Payload.Span) : new ShardMoveReply { Status = ShardStatus.WrongServer };
        }, timeout, cancellationToken);

    /// <summary>The bytes a group call's proof covers: the request's fields re-encoded (unknown fields dropped), so
    /// caller and server hash the same bytes whatever else travelled with the request.</summary>
    public static byte[] GroupCallMessage(GroupCallRequest request) =>
        new GroupCallRequest { Gid = request.Gid, Method = request.Method, Payload = request.Payload }.ToByteArray();

    private static Metadata Gid(int gid) => new() { { GidHeader, gid.ToString(System.Globalization.CultureInfo.InvariantCulture) } };

    private static ShardKvReply Map(KvError error) => error switch
    {
        KvError.ErrWrongServer => new ShardKvReply { Status = ShardStatus.WrongServer },
        KvError.ErrWrongGroup => new ShardKvReply { Status = ShardStatus.WrongGroup },
        var kv => new ShardKvReply { KvError = kv },
    };

    private async Task<KvCall<T>> CallAsync<T>(string endpoint, Func<Clients, CallOptions, Task<T>> call, TimeSpan timeout, CancellationToken cancellationToken) where T : class
    {
        Clients clients;
        try { clients = For(endpoint); }
        catch (UriFormatException e) { return KvCall<T>.Lost($"'{endpoint}' is not an endpoint: {e.Message}"); }
        try
        {
            return KvCall<T>.Answer(await call(clients, new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken)));
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.ResourceExhausted)
        {
            return KvCall<T>.Reject(e.Status.Detail);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // The caller cancelled: say so the .NET way, as the simulated channel does, so code above (the lock's
            // renewal loop, a client loop being stopped) sees an OperationCanceledException and not a stray RpcException.
            throw new OperationCanceledException("the call was cancelled", e, cancellationToken);
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            return KvCall<T>.Lost($"{endpoint}: {e.StatusCode}: {e.Status.Detail}");
        }
        catch (InvalidDataException e)
        {
            return KvCall<T>.Lost($"{endpoint}: undecodable reply: {e.Message}");
        }
    }

    public void Dispose()
    {
        foreach (var clients in _clients.Values.Where(l => l.IsValueCreated)) clients.Value.Channel.Dispose();
    }
}
