using System.Diagnostics;
using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Server.WebConsole;
using Flotilla.Transport.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Flotilla.Server;

/// <summary>
/// One real Flotilla server process: a <see cref="RealNodeHost"/> (Kestrel HTTP/2, gRPC peer transport, data
/// directory) running one Raft group through a <see cref="ReplicatedStateMachine"/> with an application on top (the
/// replicated KV), plus the Admin service (status, clean shutdown) and metrics (OpenTelemetry, Prometheus endpoint).
/// </summary>
public sealed partial class FlotillaServer : IAsyncDisposable
{
    private readonly RealNodeHost _host;
    private readonly ServerMetrics _metrics;
    private readonly TaskCompletionSource _shutdownRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _storageFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _started = Stopwatch.GetTimestamp();
    private ReplicatedStateMachine? _replica;
    private volatile ServerSnapshot? _cached;
    private ITimer? _refresh;
    private ConsoleMetrics? _consoleMetrics;
    private int[] _members = [];
    private int _disposed;
    private Faults.RuntimeFaults? _runtimeFaults;

    private readonly IServerApplication _application;

    private FlotillaServer(RealNodeHost host, ServerMetrics metrics, IServerApplication application)
    {
        _host = host;
        _metrics = metrics;
        _application = application;
    }

    public NodeContext Context => _host.Context;

    public Uri Address => _host.Address;

    /// <summary>The data directory's condition (a full disk), for status, metrics and the application's API.</summary>
    public StorageHealth Storage { get; private init; } = null!;

    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_started);

    public ReplicatedStateMachine Replica => _replica ?? throw new InvalidOperationException("not started");

    /// <summary>Completes when a client asked the server to stop (Admin.Shutdown).</summary>
    public Task ShutdownRequested => _shutdownRequested.Task;

    internal void RequestShutdown() => _shutdownRequested.TrySetResult();

    /// <summary>Completes, with one line saying why, when the Raft storage failed for good (a failed fsync, an I/O error;
    /// not a full disk, which the server rides out): the member no longer takes part and should exit.</summary>
    public Task<string> StorageFailed => _storageFailed.Task;

    public static async Task<FlotillaServer> StartAsync(ServerOptions options, IServerApplication application, CancellationToken cancellationToken = default)
    {
        options.Validate();
        Membership.EmptyDiskRule.Check(options);
        var peers = new PeerDirectory();
        var peerAddresses = options.PeerUrls ?? options.Members;
        foreach (var (id, address) in peerAddresses.Where(m => m.Key != options.Id)) peers.Set(id, address);
        var metrics = new ServerMetrics();
        var health = new StorageHealth(options.DataDirectory, options.Logs?.CreateLogger<StorageHealth>());
        metrics.ObserveStorage(health);
        var faults = StorageFaults.FromEnvironment();
        if (faults.Any) options.Logs?.CreateLogger<FlotillaServer>().LogWarning("injected disk faults are on: {Faults}", faults);
        // Latency and clock faults switched at run time (nemesis); null, and nothing wrapped, unless the environment asks.
        var runtimeFaults = Faults.RuntimeFaults.FromEnvironment(options.Logs?.CreateLogger<Faults.RuntimeFaults>());
        var host = new RealNodeHost(new RealNodeHostOptions
        {
            Id = options.Id,
            Listen = options.Listen,
            Peers = peers,
            DataDirectory = options.DataDirectory,
            WrapStorage = storage => new InstrumentedFileSystem(storage, metrics, health, faults),
            WrapTransport = runtimeFaults is null ? null : transport => new Faults.DelayingTransport(transport, runtimeFaults.Delays),
            Time = runtimeFaults?.Clock,
            Protocol = options.PeerUrls is null ? PeerProtocol.Grpc : PeerProtocol.Tcp,
            TcpListen = options.PeerUrls is null ? null : options.PeerListen,
            Security = new PeerSecurity
            {
                // A lone member has no peers: secret-less, it still refuses everyone (nobody knows an unshared secret).
                Credentials = options.Credentials ?? (options.InsecurePeers ? null : ClusterCredentials.Unshared("unshared")),
                Tls = options.PeerTls,
            },
            ClientTls = options.ClientTls,
            Logs = options.Logs,
            ClientLimits = options.ClientLimits,
            Transport = options.PeerTransport,
        });
        var clients = new ClientAddresses(options.Members);
        var directory = new Membership.MembershipDirectory(options.Id, options, peers, clients);
        var server = new FlotillaServer(host, metrics, application)
        {
            Storage = health, _runtimeFaults = runtimeFaults, _members = options.Members.Keys.Select(m => m.Value).Order().ToArray(), Directory = directory,
        };
        try
        {
            var rsmOptions = new RsmOptions
            {
                Raft = options.RaftOptions(),
                SnapshotThresholdBytes = options.SnapshotThresholdBytes,
                BeforeRaftStart = directory.Attach,
            };
            await host.Context.InvokeAsync(async () =>
            {
                server._replica = await application.StartAsync(host.Context, rsmOptions, cancellationToken);
                host.Builder.Services.AddSingleton(health);
                host.Builder.Services.AddSingleton(clients);
                application.MapApi(host);
                // Every member answers console/status, so any member's console can show this one.
                host.Context.Router.Map(ConsoleStatusService.Service, new ConsoleStatusService(server.TakeMemberStatus));
                server._refresh = host.Context.Time.CreateTimer(_ => server.Refresh(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));
                return true;
            });
            metrics.Observe(() => server._cached ?? server.TakeSnapshotUnsafeDefault());
            host.Builder.Services.AddSingleton(server);
            host.Builder.Services.AddSingleton(metrics);
            host.Builder.Services.AddGrpc();
            if (options.MetricsListen is { } metricsAt)
            {
                host.Builder.WebHost.ConfigureKestrel(k => k.Listen(metricsAt, l => l.Protocols = HttpProtocols.Http1));
                host.Builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServerMetrics.MeterName).AddPrometheusExporter());
            }
            host.Builder.Services.AddSingleton(new AdminGate(options.AdminToken, options.AdminOnClientPort,
                options.ClientTls is { RequireClientCertificate: true }));
            if (options.AdminListen is { } adminAt)
            {
                host.Builder.WebHost.ConfigureKestrel(k => k.Listen(adminAt, l =>
                {
                    l.Protocols = HttpProtocols.Http2;
                    KestrelTls.Apply(l, options.ClientTls);
                    l.Use(AdminGate.MarkAdminConnections);
                }));
            }
            ConsoleSnapshotSource? console = null;
            if (options.ConsoleListen is { } consoleAt)
            {
                server._consoleMetrics = new ConsoleMetrics(metrics.Meter);
                console = new ConsoleSnapshotSource(host.Context, server.ConsoleMembers, server.TakeMemberStatus, server._consoleMetrics,
                    () => application is Sharding.ShardServerApplication sharded ? ShardView.Take(sharded) : null);
                host.Builder.WebHost.ConfigureKestrel(k => k.Listen(consoleAt, l =>
                {
                    l.Protocols = HttpProtocols.Http1;
                    l.Use(ConsoleEndpoints.MarkConsoleConnections);
                }));
            }
            host.MapServices(app =>
            {
                if (options.ServesAdmin) app.MapGrpcService<AdminGrpcService>();
                if (options.MetricsListen is not null) app.MapPrometheusScrapingEndpoint("/metrics");
                if (console is not null) ConsoleEndpoints.Map(app, console);
            });
            await host.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>On the node's scheduler, every 250 ms: the cached status for metrics, and the storage's condition.</summary>
    private void Refresh()
    {
        var raft = Replica.Raft;
        Storage.Update(raft.StorageProblem ?? _application.OtherGroupsStorageProblem);
        if ((raft.StorageFailure ?? _application.OtherGroupsStorageFailure) is { } failure)
            _storageFailed.TrySetResult($"storage failed in {Storage.Path}: {failure.Message} (the member stopped; restart it once the disk is fixed)");
        _cached = TakeSnapshot();
    }

    /// <summary>Hands leadership of the server's group to <paramref name="target"/> (on the node's scheduler).</summary>
    public Task<Flotilla.Raft.TransferResult> TransferLeadershipAsync(NodeId target, CancellationToken cancellationToken) =>
        Context.InvokeAsync(() => Replica.IsStopped
            ? Task.FromResult(Flotilla.Raft.TransferResult.Failed($"{Context.Id} is stopped"))
            : Replica.Raft.TransferLeadershipAsync(target, cancellationToken));

    /// <summary>A fresh status, taken on the node's scheduler.</summary>
    public Task<ServerSnapshot> SnapshotAsync() => Context.InvokeAsync(() => Task.FromResult(TakeSnapshot()));

    private ServerSnapshot TakeSnapshot()
    {
        var replica = Replica;
        var raft = replica.Raft;
        var stopped = replica.IsStopped;
        return new ServerSnapshot(
            Context.Id.Value,
            stopped ? "Stopped" : raft.Role.ToString(),
            raft.Term,
            raft.Leader?.Value ?? 0,
            raft.CommitIndex,
            replica.AppliedIndex,
            raft.LastIndex,
            raft.PersistedSizeBytes,
            raft.Core.SnapshotIndex,
            replica.SnapshotsTaken,
            !stopped && raft.Role == RaftRole.Leader,
            replica.LastSnapshotBytes,
            Storage.DiskFull ?? (raft.StorageFailure is { } failure ? $"storage failed ({Storage.Path}): {failure.Message}" : null),
            // The membership this member applied (RaftCore.Membership): its own place in it, and a change in progress.
            MemberRole: raft.Core.Membership.IsVoter(Context.Id) ? "voter" : raft.Core.Membership.IsLearner(Context.Id) ? "learner" : "none",
            Joint: raft.Core.Membership.IsJoint,
            Membership: raft.Core.Membership.ToString());
    }

    /// <summary>The members the console shows (on the node's scheduler): the membership this member applied, voters and
    /// learners, so members added by <c>cluster add</c> appear and removed ones go, plus this member itself (a removed or
    /// joining member still shows its own row). The command line's <c>--members</c> only until Raft has started.</summary>
    private IReadOnlyList<int> ConsoleMembers()
    {
        // A joining member knows no membership until the log (or a snapshot) reaches it.
        if (_replica is not { } replica || !replica.Raft.Membership.Members.Any()) return _members;
        return replica.Raft.Membership.Members.Select(m => m.Value).Append(Context.Id.Value).Distinct().Order().ToArray();
    }

    /// <summary>This member's row for the console (on the node's scheduler). Storage trouble is named, not detailed:
    /// its message carries the data directory's path, which the console does not show.</summary>
    private MemberStatus TakeMemberStatus(bool withHistory)
    {
        var problem = Storage.DiskFull is not null ? "disk full" : Replica.Raft.StorageFailure is not null ? "storage failed" : null;
        var status = MemberStatus.Take(Context.Id.Value, ConsoleMembers(), Replica, Uptime, problem);
        return withHistory && _consoleMetrics is { } metrics ? status with { Points = metrics.History() } : status;
    }

    private ServerSnapshot TakeSnapshotUnsafeDefault() => new(Context.Id.Value, "Starting", 0, 0, 0, 0, 0, 0, 0, 0, false, 0, Storage.DiskFull);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_replica is { } replica)
        {
            await Context.InvokeAsync(async () =>
            {
                _refresh?.Dispose();
                await _application.StopAsync();
                await replica.StopAsync();
                return true;
            });
        }
        await _host.DisposeAsync();
        _runtimeFaults?.Dispose();
        _consoleMetrics?.Dispose();
        _metrics.Dispose();
    }
}
