using Flotilla.Kv.Protos;
using Flotilla.Kv.Replicated;
using Flotilla.Kv.Server;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;
using Google.Protobuf;
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
        host.MapServices(app => app.MapGrpcService<ReplicatedKvGrpcService>());
    }

    public Task StopAsync() => _server?.StopAsync() ?? Task.CompletedTask;

    /// <summary>The typed gRPC face of the replica: hops onto the node's scheduler and runs the same handler the
    /// simulated network reaches, so both runtimes share one code path.</summary>
    private sealed class ReplicatedKvGrpcService(NodeContext context, KvServerApplication application) : Kv.Protos.Kv.KvBase
    {
        public override async Task<GetReply> Get(GetRequest request, ServerCallContext call) =>
            GetReply.Parser.ParseFrom((await CallAsync(KvServer.GetMethod, request, call)).Span);

        public override async Task<PutReply> Put(PutRequest request, ServerCallContext call) =>
            PutReply.Parser.ParseFrom((await CallAsync(KvServer.PutMethod, request, call)).Span);

        private async Task<ReadOnlyMemory<byte>> CallAsync(string method, IMessage request, ServerCallContext call)
        {
            var bytes = request.ToByteArray();
            try
            {
                return await context.InvokeAsync(async () =>
                    await application.Server.HandleCallAsync(context.Id, method, bytes, call.CancellationToken));
            }
            catch (KvInvalidArgumentException e)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
            }
        }
    }
}
