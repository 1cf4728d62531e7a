using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flotilla.MapReduce.Hosting;

/// <summary>A minimal Kestrel gRPC server on loopback (HTTP/2 cleartext only), quiet, with a known address.</summary>
internal static class GrpcServer
{
    /// <summary>Upper bound on one inbound message; task reports and requests are tiny.</summary>
    private const int ReceiveBytesMax = 4 << 20;

    /// <summary>Starts the server; with <paramref name="pagePort"/> it also listens there over HTTP/1.1 (for browsers:
    /// the job page), whose address is the second one returned (null without it).</summary>
    public static async Task<(WebApplication Server, string Address, string? PageAddress)> StartAsync(int port, Action<IServiceCollection> addServices,
        Action<WebApplication> mapServices, CancellationToken cancellationToken, int? pagePort = null)
    {
        // No watching of configuration files (see RealNodeHost: the watcher walks the content root's tree).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
            if (pagePort is { } page) kestrel.Listen(IPAddress.Loopback, page, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = ReceiveBytesMax);
        addServices(builder.Services);
        var server = builder.Build();
        mapServices(server);
        await server.StartAsync(cancellationToken);
        // Kestrel lists the bound addresses in the order of the Listen calls above.
        var addresses = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => a.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal)).ToList();
        return (server, addresses[0], pagePort is null ? null : addresses[1]);
    }
}
