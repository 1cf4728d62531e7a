using Flotilla.Kv.Protos;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Flotilla.Kv.Server;

/// <summary>What a server of <c>flotilla.kv.v1.Kv</c> implements (the single-node and the replicated one).</summary>
public interface IKvGrpcApi
{
    Task<GetReply> Get(GetRequest request, ServerCallContext call);

    Task<PutReply> Put(PutRequest request, ServerCallContext call);
}

/// <summary>
/// Binds <c>flotilla.kv.v1.Kv</c> to an <see cref="IKvGrpcApi"/> with request marshallers that decode through
/// <see cref="KvWire"/>. gRPC deserializes a request before any handler or interceptor runs and turns a deserializer's
/// exception into UNKNOWN "Exception was thrown by handler."; a deserializer that throws an <see cref="RpcException"/>
/// makes that status INVALID_ARGUMENT with the reason instead. The generated <c>KvBase</c> binding cannot take other
/// marshallers, so the services implement the interface and are bound here.
/// </summary>
public sealed class KvGrpcMethods<TService> : IServiceMethodProvider<TService> where TService : class, IKvGrpcApi
{
    private static readonly string ServiceName = Protos.Kv.Descriptor.FullName;

    private static readonly Method<GetRequest, GetReply> Get = new(MethodType.Unary, ServiceName, "Get", Strict(GetRequest.Parser), Replies(GetReply.Parser));

    private static readonly Method<PutRequest, PutReply> Put = new(MethodType.Unary, ServiceName, "Put", Strict(PutRequest.Parser), Replies(PutReply.Parser));

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        context.AddUnaryMethod(Get, [], (service, request, call) => service.Get(request, call));
        context.AddUnaryMethod(Put, [], (service, request, call) => service.Put(request, call));
    }

    private static Marshaller<T> Strict<T>(MessageParser<T> parser) where T : IMessage<T> => Marshallers.Create(
        message => message.ToByteArray(),
        bytes =>
        {
            try { return KvWire.Parse(parser, bytes); }
            catch (KvInvalidArgumentException e) { throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message[KvInvalidArgumentException.Prefix.Length..])); }
        });

    private static Marshaller<T> Replies<T>(MessageParser<T> parser) where T : IMessage<T> =>
        Marshallers.Create(message => message.ToByteArray(), parser.ParseFrom);
}

public static class KvGrpcRegistration
{
    /// <summary>Registers the strict binding of <typeparamref name="TService"/>; map it with <c>MapGrpcService</c>.</summary>
    public static IServiceCollection AddKvGrpcApi<TService>(this IServiceCollection services) where TService : class, IKvGrpcApi =>
        services.AddSingleton<IServiceMethodProvider<TService>, KvGrpcMethods<TService>>();
}
