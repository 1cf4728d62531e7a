using Flotilla.Kv.Protos;
using Flotilla.Kv.Server;
using Flotilla.Runtime;
using Grpc.Core;

namespace Flotilla.Server.Sharding;

/// <summary>The public <c>flotilla.kv.v1.Kv</c> service of a sharded server: a request carries no group id, so the
/// application routes it to the local group that owns the key's shard (see <see cref="ShardServerApplication.Route"/>).
/// Bound through <see cref="KvGrpcRegistration.AddKvGrpcApi{TService}"/> (strict request marshalling, as the other KV
/// servers): a malformed request or a key or value that is not UTF-8 is INVALID_ARGUMENT, not UNKNOWN.</summary>
internal sealed class ShardedKvGrpcService(NodeContext context, ShardServerApplication application, ServerMetrics metrics) : IKvGrpcApi
{
    public Task<GetReply> Get(GetRequest request, ServerCallContext call)
    {
        var gid = GidHint(call);
        return metrics.TimeAsync("get", () => InvalidArgumentAsStatus(() => context.InvokeAsync(() => application.GetAsync(request, gid, call.CancellationToken))));
    }

    public Task<PutReply> Put(PutRequest request, ServerCallContext call)
    {
        var gid = GidHint(call);
        return metrics.TimeAsync("put", () => InvalidArgumentAsStatus(() => context.InvokeAsync(() => application.PutAsync(request, gid, call.CancellationToken))));
    }

    /// <summary>The group the client routed the request to (header <c>flotilla-gid</c>, sent by the sharded client),
    /// if any: a hint, since any local group that owns the shard may serve it.</summary>
    private static int? GidHint(ServerCallContext call) =>
        call.RequestHeaders.GetValue(ShardServerApplication.GidHeader) is { } text && int.TryParse(text, out var gid) ? gid : null;

    private static async Task<T> InvalidArgumentAsStatus<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (KvInvalidArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }
}
