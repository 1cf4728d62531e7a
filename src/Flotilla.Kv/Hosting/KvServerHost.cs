using System.Net;
using Flotilla.Kv.Server;
using Flotilla.Kv.Storage;
using Flotilla.Runtime;
using Flotilla.Runtime.Storage;
using Flotilla.Transport.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flotilla.Kv.Hosting;

/// <summary>
/// A real single-node KV server: a <see cref="RealNodeHost"/> (Kestrel, HTTP/2) serving the public gRPC service
/// <c>flotilla.kv.v1.Kv</c>, with its state recovered from and made durable in <c>dataDirectory</c>. The same node
/// also answers <c>kv/get</c> and <c>kv/put</c> over the peer transport.
/// </summary>
public sealed class KvServerHost : IAsyncDisposable
{
    private readonly RealNodeHost _host;
    private readonly KvDurableLog _log;

    private KvServerHost(RealNodeHost host, KvDurableLog log, KvServer server)
    {
        _host = host;
        _log = log;
        Server = server;
    }

    public KvServer Server { get; }

    public KvDurableLog Log => _log;

    /// <summary>Where clients dial (the real port when listening on port 0).</summary>
    public Uri Address => _host.Address;

    /// <param name="logs">Where the server reports trouble (a full disk, a failed one); nothing when null.</param>
    /// <param name="wrapStorage">Wraps the data directory's file system (tests inject faults with it).</param>
    public static async Task<KvServerHost> StartAsync(IPEndPoint listen, string dataDirectory, KvDurableLogOptions? logOptions = null,
        CancellationToken cancellationToken = default, ILoggerFactory? logs = null, Func<IFileSystem, IFileSystem>? wrapStorage = null)
    {
        var host = new RealNodeHost(new RealNodeHostOptions
        {
            Id = new NodeId(1),
            Listen = listen,
            Peers = new PeerDirectory(),
            DataDirectory = dataDirectory,
            ClientLimits = KvLimits.ClientPort,
            Logs = logs,
            WrapStorage = wrapStorage,
        });
        // Errors name the data directory: "disk full (/var/lib/flotilla)".
        logOptions = (logOptions ?? new KvDurableLogOptions()) is { DisplayPath: "kv" } plain ? plain with { DisplayPath = dataDirectory } : logOptions;
        try
        {
            // Recovery and every later touch of the state run on the node's scheduler, like all protocol code.
            var (server, log) = await host.Context.InvokeAsync(() => KvServer.OpenDurableAsync(host.Context, logOptions));
            host.Builder.Services.AddSingleton(server.Handler);
            host.Builder.Services.AddKvGrpcApi<KvGrpcService>();
            host.MapServices(app => app.MapGrpcService<KvGrpcService>());
            await host.StartAsync(cancellationToken);
            return new KvServerHost(host, log, server);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _log.DisposeAsync();
    }
}
