using Flotilla.Kv.Protos;
using Flotilla.Runtime;
using Grpc.Core;

namespace Flotilla.Kv.Server;

/// <summary>
/// The public typed gRPC service <c>flotilla.kv.v1.Kv</c>: hops onto the node's scheduler and runs the same
/// <see cref="KvRequestHandler"/> as the simulated server. Malformed requests get status INVALID_ARGUMENT (undecodable
/// ones already in <see cref="KvGrpcMethods{TService}"/>, which binds it).
/// </summary>
public sealed class KvGrpcService(NodeContext context, KvRequestHandler handler) : IKvGrpcApi
{
    public async Task<GetReply> Get(GetRequest request, ServerCallContext call) =>
        Unwrap(await StorageAsStatus(() => context.InvokeAsync(() => handler.GetAsync(request, call.CancellationToken))));

    public async Task<PutReply> Put(PutRequest request, ServerCallContext call) =>
        Unwrap(await StorageAsStatus(() => context.InvokeAsync(() => handler.PutAsync(request, call.CancellationToken))));

    /// <summary>A full disk is RESOURCE_EXHAUSTED naming the path; a failed disk is UNAVAILABLE (retry elsewhere or later).</summary>
    internal static async Task<T> StorageAsStatus<T>(Func<Task<T>> call)
    {
        try { return await call(); }
        catch (Storage.KvDiskFullException e) { throw new RpcException(new Status(StatusCode.ResourceExhausted, e.Message)); }
        catch (Storage.KvStorageFailedException e) { throw new RpcException(new Status(StatusCode.Unavailable, e.Message)); }
    }

    private static T Unwrap<T>(KvHandled<T> handled) where T : class =>
        handled.Reply ?? throw new RpcException(new Status(StatusCode.InvalidArgument, handled.InvalidArgument!));
}
