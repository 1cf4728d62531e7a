using Flotilla.Kv.Protos;
using Flotilla.Kv.Replicated;
using Flotilla.Kv.Server;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flotilla.Server;

/// <summary>The replicated versioned KV as a server application: the Raft-replicated KV state machine behind the
/// public <c>flotilla.kv.v1.Kv</c> gRPC service (the same API as the single-node server).</summary>
public sealed class KvServerApplication : IServerApplication
{
    private ReplicatedKvServer? _server;

    public ReplicatedKvServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task<ReplicatedStateMachine> StartAsync(NodeContext context, RsmOptions options, CancellationToken cancellationToken)
    {
        _server = await ReplicatedKvServer.StartAsync(context, options, cancellationToken);
        return _server.Rsm;
    }

    public void MapApi(RealNodeHost host)
    {
        host.Builder.Services.AddSingleton(this);
        host.Builder.Services.AddKvGrpcApi<ReplicatedKvGrpcService>();
        host.MapServices(app => app.MapGrpcService<ReplicatedKvGrpcService>());
    }

    public Task StopAsync() => _server?.StopAsync() ?? Task.CompletedTask;

    /// <summary>The typed gRPC face of the replica: hops onto the node's scheduler and runs the same typed handlers the
    /// peer-transport path decodes into, so both runtimes share one code path without re-encoding requests.</summary>
    private sealed class ReplicatedKvGrpcService(NodeContext context, KvServerApplication application, StorageHealth storage,
        ClientAddresses addresses, ServerMetrics metrics) : IKvGrpcApi
    {
        public Task<GetReply> Get(GetRequest request, ServerCallContext call) => metrics.TimeAsync("get", async () =>
        {
            var reply = await InvalidArgumentAsStatus(() => context.InvokeAsync(() => application.Server.GetAsync(request, call.CancellationToken)));
            addresses.Complete(reply.Leader);
            return reply;
        });

        /// <summary>With the disk full a put is refused before it is proposed (not applied); one that was already
        /// under way when the disk filled is reported as possibly applied rather than as ERR_WRONG_SERVER.</summary>
        public Task<PutReply> Put(PutRequest request, ServerCallContext call) => metrics.TimeAsync("put", () => PutUntimed(request, call));

        private async Task<PutReply> PutUntimed(PutRequest request, ServerCallContext call)
        {
            if (storage.DiskFull is { } refused)
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"{refused}: {Kv.Storage.KvDiskFullException.NotAppliedText}"));
            try
            {
                var reply = await InvalidArgumentAsStatus(async () => PutReply.Parser.ParseFrom(
                    (await context.InvokeAsync(() => application.Server.PutAsync(request, call.CancellationToken))).Span));
                if (reply.Error == KvError.ErrWrongServer && storage.DiskFull is { } full)
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, $"{full}: {Kv.Storage.KvDiskFullException.NotAppliedText}"));
                addresses.Complete(reply.Leader);
                return reply;
            }
            catch (KvOutcomeUnknownException) when (storage.DiskFull is { } full)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"{full}: {Kv.Storage.KvDiskFullException.OutcomeUnknownText}"));
            }
        }

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
}
