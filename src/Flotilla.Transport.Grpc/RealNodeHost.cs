using System.Net;
using Flotilla.Runtime;
using Flotilla.Runtime.Execution;
using Flotilla.Runtime.Network;
using Flotilla.Runtime.Storage;
using Flotilla.Transport.Grpc.Tcp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// One real Flotilla process as a node: builds its <see cref="NodeContext"/> (serial scheduler, system clock
/// delivering timers on the scheduler, real randomness, the data directory, <see cref="GrpcTransport"/>, a
/// <see cref="RpcRouter"/>) and a Kestrel server (HTTP/2 only) that serves <see cref="PeerService"/>. With
/// <see cref="PeerProtocol.Tcp"/> the transport is <see cref="TcpTransport"/> and a <see cref="TcpPeerListener"/>
/// takes peer traffic on its own port and Kestrel serves only the client APIs (unless <see cref="RealNodeHostOptions.ServeGrpcPeers"/>).
/// <see cref="RealNodeHostOptions.Security"/> authenticates peers and <see cref="RealNodeHostOptions.ClientTls"/> puts TLS on
/// the Kestrel port (docs/security.md).
/// <para>Use: construct; register protocol handlers on <c>Context.Router</c>; optionally add services through
/// <see cref="Builder"/> and <see cref="MapServices"/> (the public KV API); <see cref="StartAsync"/>;
/// <see cref="DisposeAsync"/> at the end. The <see cref="NodeContext"/>, <see cref="GrpcTransport"/> and
/// <see cref="PeerDirectory"/> are registered in the web app's services for extra gRPC services to take.</para>
/// </summary>
public sealed class RealNodeHost : IAsyncDisposable
{
    private readonly RealNodeHostOptions _options;
    private readonly WebApplicationBuilder _builder;
    private readonly List<Action<WebApplication>> _extraMaps = [];
    private readonly ILogger _log;
    private readonly TcpPeerListener? _tcpListener;
    private WebApplication? _app;
    private bool _disposed;

    public RealNodeHost(RealNodeHostOptions options)
    {
        options.ClientLimits.Validate();
        if (options.Protocol == PeerProtocol.Tcp && options.TcpListen is null)
            throw new ArgumentException("PeerProtocol.Tcp needs TcpListen", nameof(options));
        _options = options;
        var logs = options.Logs ?? NullLoggerFactory.Instance;
        _log = logs.CreateLogger<RealNodeHost>();
        var scheduler = new SerialSynchronizationContext(OnSchedulerError);
        Transport = options.Protocol switch
        {
            PeerProtocol.Grpc => new GrpcTransport(options.Id, options.Peers, options.Transport, logs, options.Security),
            PeerProtocol.Tcp => new TcpTransport(options.Id, options.Peers, options.Transport, logs, options.Security),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Protocol, "unknown peer protocol"),
        };
        Context = new NodeContext(options.Id, new ContextTimeProvider(options.Time ?? TimeProvider.System, scheduler), new Random(),
            options.WrapTransport is { } wrap ? wrap(Transport) : Transport, new RpcRouter(), WrapStorage(options, new PhysicalFileSystem(options.DataDirectory)), scheduler, logs);
        if (options.Protocol == PeerProtocol.Tcp)
        {
            _tcpListener = new TcpPeerListener(Context, options.TcpListen!, options.Transport, logs.CreateLogger<TcpPeerListener>(),
                options.Security, IsMember);
        }
        _builder = CreateBuilder(options, Context, Transport);
    }

    public NodeId Id => _options.Id;

    /// <summary>Who may connect as a peer: the members in the address book.</summary>
    private bool IsMember(NodeId id) => _options.Peers.TryGet(id, out _);

    /// <summary>The node's context: what protocol code running in this process is given.</summary>
    public NodeContext Context { get; }

    /// <summary>The node's outbound peer transport (<see cref="GrpcTransport"/> or <see cref="TcpTransport"/>).</summary>
    public IPeerTransport Transport { get; }

    public PeerDirectory Peers => _options.Peers;

    /// <summary>The web app under construction: add services (e.g. <c>Builder.Services.AddSingleton</c>) before <see cref="StartAsync"/>.</summary>
    public WebApplicationBuilder Builder => _app is null ? _builder : throw new InvalidOperationException("the host has started; its builder is closed");

    /// <summary>The Kestrel address clients (and gRPC peers) dial, known once started (the real port when listening on port 0).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>What other nodes put in their <see cref="PeerDirectory"/> for this node: <see cref="Address"/> with
    /// gRPC peers, <c>tcp://host:port</c> of the peer listener with framed TCP. Known once started.</summary>
    public Uri PeerAddress { get; private set; } = null!;

    /// <summary>Adds endpoints (e.g. <c>app.MapGrpcService&lt;KvApi&gt;()</c>) mapped next to <see cref="PeerService"/> at start.</summary>
    public void MapServices(Action<WebApplication> map)
    {
        if (_app is not null) throw new InvalidOperationException("map services before starting the host");
        _extraMaps.Add(map);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_app is not null) throw new InvalidOperationException("the host was already started; build a new one to restart a node");
        _app = _builder.Build();
        var limiter = new ClientCallLimiter(_options.ClientLimits);
        _app.Use((context, next) => limiter.InvokeAsync(context, next));
        if (_options.ServeGrpcPeers ?? _options.Protocol == PeerProtocol.Grpc) _app.MapGrpcService<PeerService>();
        foreach (var map in _extraMaps) map(_app);
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(bound);
        PeerAddress = Address;
        if (_tcpListener is not null)
        {
            _tcpListener.Start();
            var tcp = _tcpListener.LocalEndPoint;
            PeerAddress = new Uri($"tcp://{(tcp.Address.IsIPv4MappedToIPv6 ? tcp.Address.MapToIPv4() : tcp.Address)}:{tcp.Port}");
        }
    }

    /// <summary>Stops listening: inbound streams end, in-flight inbound calls get until <paramref name="cancellationToken"/>
    /// (or <see cref="RealNodeHostOptions.ShutdownTimeout"/>) to finish.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_tcpListener is not null) await _tcpListener.DisposeAsync().ConfigureAwait(false);
        if (_app is not null) await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_tcpListener is not null) await _tcpListener.DisposeAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            using var limit = new CancellationTokenSource(_options.ShutdownTimeout);
            try { await _app.StopAsync(limit.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { /* forced: remaining requests are aborted by dispose */ }
        }
        await Transport.DisposeAsync().ConfigureAwait(false);
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static WebApplicationBuilder CreateBuilder(RealNodeHostOptions options, NodeContext context, IPeerTransport transport)
    {
        // Slim: no environment-driven URLs; the node's address comes from its options only. The content root is the
        // program's directory and configuration files are not watched: by default the host watches its content root
        // (the working directory) for appsettings changes, and on Linux that watcher walked the whole tree under it,
        // lstat-ing every file dozens of times a second (a server started from a repository checkout spent more CPU
        // on that than on its puts; the 1-client put rate fell 3-5x).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        if (options.Logs is not null) builder.Services.AddSingleton(options.Logs);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // HTTP/2 only over cleartext (h2c): gRPC needs HTTP/2 and, without TLS, there is no ALPN to negotiate it.
            kestrel.Listen(options.Listen, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                KestrelTls.Apply(listen, options.ClientTls);
            });
            // gRPC enforces its own per-message limit (below); a one-way stream's body is unbounded by design.
            kestrel.Limits.MaxRequestBodySize = null;
            // Larger HTTP/2 receive windows than Kestrel's defaults (1 MiB / 768 KiB): a busy one-way stream then
            // keeps several batches in flight instead of waiting a round trip for each WINDOW_UPDATE.
            kestrel.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
            options.ClientLimits.ApplyTo(kestrel.Limits);
        });
        // Client services get the client limits; the peer service keeps the (larger) peer message limit.
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.ClientLimits.MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = options.ClientLimits.MaxSendMessageBytes;
        }).AddServiceOptions<PeerService>(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.Transport.MaxMessageBytes;
            grpc.MaxSendMessageSize = options.Transport.MaxMessageBytes;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddSingleton(context);
        builder.Services.AddSingleton(transport);
        builder.Services.AddSingleton<ITransport>(transport);
        builder.Services.AddSingleton(options.Peers);
        builder.Services.AddSingleton(options.Transport);
        if (options.Security.Credentials is { } credentials)
            builder.Services.AddSingleton(new GrpcPeerAuth(credentials, options.Id, id => options.Peers.TryGet(id, out _)));
        return builder;
    }

    private void OnSchedulerError(Exception error) =>
        // Protocol code threw out of a callback: a bug. Keep the node alive but make it loud.
        _log.LogCritical(error, "{Node}: unhandled exception on the node's scheduler", _options.Id);

    private static Flotilla.Runtime.Storage.IFileSystem WrapStorage(RealNodeHostOptions options, Flotilla.Runtime.Storage.IFileSystem storage) =>
        options.WrapStorage is { } wrap ? wrap(storage) : storage;

    /// <summary>Parses "host:port" or "[v6]:port" as the listen endpoint ("127.0.0.1:0" for a free loopback port).</summary>
    public static IPEndPoint ParseEndPoint(string text) => IPEndPoint.Parse(text);
}
