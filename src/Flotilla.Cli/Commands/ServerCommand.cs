using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Flotilla.Cli.Infrastructure;
using Flotilla.Runtime;
using Flotilla.Server;
using Microsoft.Extensions.Logging;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla server</c>: one member of a replicated KV cluster, in the foreground until stopped.</summary>
public static class ServerCommand
{
    public static Command Create()
    {
        var id = new Option<int>("--id") { Description = "This member's id (a positive integer).", Required = true };
        var peers = new Option<string>("--peers", "--members")
        {
            Description = "Every member as ID=HOST:PORT, comma-separated (this one included), e.g. 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003.",
            Required = true,
        };
        var listen = new Option<string?>("--listen") { Description = "Where to listen (default: this member's address in --peers)." };
        var peerUrls = new Option<string?>("--peer-urls")
        {
            Description = "Raft traffic over framed TCP (faster than gRPC): every member as ID=HOST:PORT, comma-separated, this one included. " +
                          "Without it, Raft traffic shares the gRPC port of --peers.",
        };
        var peerListen = new Option<string?>("--peer-listen") { Description = "Where to listen for framed-TCP peers (default: this member's entry in --peer-urls)." };
        var data = new Option<string>("--data") { Description = "The member's data directory (WAL, snapshots).", Required = true };
        var snapshot = new Option<long?>("--snapshot-threshold") { Description = "Snapshot the state when Raft's persisted bytes pass this (default 8 MiB)." };
        var metrics = new Option<string?>("--metrics-listen") { Description = "Serve Prometheus metrics at http://ADDR/metrics (HTTP/1.1)." };
        var console = new Option<string?>("--console") { Description = "Serve the read-only web console at http://ADDR/ (HTTP/1.1; no token needed, nothing secret shown)." };
        var reads = new Option<string>("--reads")
        {
            Description = "Where gets are answered: leader (ReadIndex, a heartbeat round per batch; the default), lease (the leader's lease, no round; assumes bounded clock drift), follower (any member, after asking the leader for a read index).",
            DefaultValueFactory = _ => "leader",
        };
        var drift = new Option<string?>("--max-clock-drift") { Description = "With --reads lease: how much the lease is shortened for clock drift (default 50ms; below the 400ms election timeout)." };
        var parent = new Option<int?>("--parent-pid") { Description = "Exit when this process exits (used by 'flotilla cluster start')." };
        var initialState = new Option<string?>("--initial-state")
        {
            Description = "What an empty data directory means: 'new' (first start of a brand-new cluster: bootstrap), 'existing' " +
                          "(a member of a running cluster: refuse an empty directory, the member lost its disk), 'join' (a new member " +
                          "that waits until the leader adds it). Without it a directory with Raft state restarts and an empty one is refused.",
        };
        initialState.AcceptOnlyFromAmong("new", "existing", "join");
        var initialVoters = new Option<string?>("--initial-voters")
        {
            Description = "The group's bootstrap voters, comma-separated ids (default: the ids of --members). The same on every member; " +
                          "a member outside it joins.",
        };
        var command = new Command("server", "Run one member of a replicated KV cluster (Raft + WAL + snapshots), serving the flotilla.kv.v1 gRPC API.")
        {
            id, peers, listen, peerUrls, peerListen, data, snapshot, metrics, console, reads, drift, parent, initialState, initialVoters,
        };
        ShardServerFlags.AddTo(command);
        var security = new ServerSecurityFlags();
        security.AddTo(command);
        var limits = new ServerLimitFlags();
        limits.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var self = new NodeId(parse.GetValue(id));
            if (self.Value <= 0) throw new CliException("--id must be a positive integer", ExitCodes.Usage);
            Dictionary<NodeId, Uri> members;
            try { members = ServerOptions.ParseMembers(parse.GetValue(peers)!); }
            catch (FormatException e) { throw new CliException($"--peers: {e.Message}", ExitCodes.Usage); }
            var listenAt = parse.GetValue(listen) ?? (members.TryGetValue(self, out var own) ? own.Authority
                : throw new CliException($"--peers does not list member {self.Value}; add it or give --listen", ExitCodes.Usage));
            if (!members.ContainsKey(self)) members[self] = new Uri("http://" + listenAt);
            Dictionary<NodeId, Uri>? peerAddresses = null;
            IPEndPoint? peerListenAt = null;
            if (parse.GetValue(peerUrls) is { } urlsText)
            {
                try { peerAddresses = ServerOptions.ParsePeerUrls(urlsText); }
                catch (FormatException e) { throw new CliException($"--peer-urls: {e.Message}", ExitCodes.Usage); }
                var peerListenText = parse.GetValue(peerListen) ?? (peerAddresses.TryGetValue(self, out var ownPeer) ? ownPeer.Authority
                    : throw new CliException($"--peer-urls does not list member {self.Value}; add it or give --peer-listen", ExitCodes.Usage));
                peerListenAt = ParseEndPoint(peerListenText, "--peer-listen");
            }
            else if (parse.GetValue(peerListen) is not null)
            {
                throw new CliException("--peer-listen needs --peer-urls", ExitCodes.Usage);
            }
            var options = new ServerOptions
            {
                Id = self,
                Listen = ParseEndPoint(listenAt, "--listen"),
                Members = members,
                PeerUrls = peerAddresses,
                PeerListen = peerListenAt,
                DataDirectory = Path.GetFullPath(parse.GetValue(data)!),
                SnapshotThresholdBytes = parse.GetValue(snapshot) ?? 8 << 20,
                MetricsListen = parse.GetValue(metrics) is { } m ? ParseEndPoint(m, "--metrics-listen") : null,
                ConsoleListen = parse.GetValue(console) is { } c ? ParseEndPoint(c, "--console") : null,
                Reads = Flotilla.Raft.ReadModes.Parse(parse.GetValue(reads)!)
                        ?? throw new CliException($"--reads: '{parse.GetValue(reads)}' is not leader, lease or follower", ExitCodes.Usage),
                MaxClockDrift = parse.GetValue(drift) is { } d ? Flotilla.Cli.Bench.BenchDuration.Parse(d, "--max-clock-drift") : TimeSpan.FromMilliseconds(50),
                StartMode = parse.GetValue(initialState) switch
                {
                    "new" => ServerStartMode.NewCluster, "existing" => ServerStartMode.Existing, "join" => ServerStartMode.Join, _ => ServerStartMode.Legacy,
                },
                InitialVoters = parse.GetValue(initialVoters) is { } voters ? ParseVoters(voters) : null,
            };
            // Warnings on stdout (the launcher's server.log): refused peer connections, handler failures, a full disk.
            // Stderr stays for the one-line error of a failed start.
            using var logs = LoggerFactory.Create(b => b
                .AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss.fff "; })
                .SetMinimumLevel(LogLevel.Warning)
                .AddFilter("Microsoft", LogLevel.Error));
            options = security.Apply(parse, options with { Logs = logs }, ParseEndPoint);
            options = limits.Apply(parse, options);
            try { options.Validate(); }
            catch (ArgumentException e) { throw new CliException(e.Message, ExitCodes.Usage); }

            var output = parse.InvocationConfiguration.Output;
            // The sharded store's migration calls prove the peers' secret; a lone member without one still refuses
            // strangers (credentials nobody else has), as its peer port does; --insecure-peers: unauthenticated.
            var application = ShardServerFlags.Application(parse, members,
                options.Credentials ?? (options.InsecurePeers ? null : Flotilla.Transport.Grpc.ClusterCredentials.Unshared("unshared")));
            // The sharded store's groups (controller and shard groups, with migrations) are only tested reading
            // through the leader: refuse another mode rather than run it unchecked.
            if (application is Flotilla.Server.Sharding.ShardServerApplication && options.Reads != Flotilla.Raft.ReadMode.Leader)
                throw new CliException("--reads lease|follower is for the replicated KV only; the sharded store (--shard-groups) reads through the leader", ExitCodes.Usage);
            if (parse.GetValue(initialState) is null) options = options with { StartMode = DefaultStartMode(options.DataDirectory) };
            await using var server = await StartAsync(options, application, ct);
            output.WriteLine($"flotilla server n{self.Value} serving {server.Address} (pid {Environment.ProcessId}); members {string.Join(", ", members.OrderBy(x => x.Key).Select(x => $"n{x.Key.Value}={x.Value.Authority}"))}" +
                (peerListenAt is null ? "; raft over gRPC" : $"; raft over framed TCP at {peerListenAt}") + ShardServerFlags.Describe(application));
            if (options.ConsoleListen is { } consoleAt) output.WriteLine($"console: http://{consoleAt}/");
            var reason = await WaitForStopAsync(server, parse.GetValue(parent), ct);
            // A member whose storage failed for good is no use running on: stop it, say why in one line, exit 1.
            if (server.StorageFailed.IsCompleted) throw new CliException(await server.StorageFailed, ExitCodes.Failure);
            output.WriteLine($"flotilla server n{self.Value} stopping: {reason}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Without <c>--initial-state</c>: a directory with Raft state is a restart (<c>existing</c>); an empty one is
    /// refused, since this start cannot tell a new cluster's first start from a member that lost its disk (which must
    /// never bootstrap again: the empty-disk rule). Checked after every other flag, so their errors come first.</summary>
    private static ServerStartMode DefaultStartMode(string dataDirectory) =>
        Flotilla.Server.Membership.EmptyDiskRule.HasRaftState(dataDirectory) ? ServerStartMode.Existing
            : throw new CliException($"{dataDirectory} holds no Raft state: pass --initial-state new (the first start of a new cluster) or " +
                                     "--initial-state join (a new member of a running one)", ExitCodes.Usage);

    private static List<NodeId> ParseVoters(string text)
    {
        var ids = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var bad = ids.FirstOrDefault(i => !int.TryParse(i, out var v) || v <= 0);
        if (bad is not null || ids.Count == 0) throw new CliException($"--initial-voters: '{bad ?? text}' is not a positive member id", ExitCodes.Usage);
        return ids.Select(i => new NodeId(int.Parse(i))).ToList();
    }

    private static async Task<FlotillaServer> StartAsync(ServerOptions options, IServerApplication application, CancellationToken ct)
    {
        try
        {
            return await FlotillaServer.StartAsync(options, application, ct);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException || (e is IOException &&
            (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) || e.InnerException is System.Net.Sockets.SocketException)))
        {
            // Kestrel names the address it failed on, the framed-TCP peer listener does not ("Address already in use"):
            // name the one(s) we cannot bind, so the line says which port to free.
            var mine = new[] { options.Listen, options.PeerListen, options.MetricsListen, options.ConsoleListen }.OfType<IPEndPoint>().Distinct().ToList();
            var taken = mine.Where(endpoint => !CanBind(endpoint)).ToList();
            var reason = (e as System.Net.Sockets.SocketException ?? e.InnerException as System.Net.Sockets.SocketException)?.Message ?? e.Message;
            throw new CliException($"cannot listen on {string.Join(", ", (taken.Count > 0 ? taken : mine).Select(x => x.ToString()))}: {reason}", ExitCodes.Failure, e);
        }
        catch (Flotilla.Server.Membership.ServerStartRefusedException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput, e);
        }
        catch (Flotilla.Wal.WalCorruptionException e)
        {
            throw new CliException($"refusing to start: the write-ahead log is damaged: {e.Message}", ExitCodes.BadInput, e);
        }
        catch (Flotilla.Wal.Snapshots.SnapshotCorruptionException e)
        {
            throw new CliException($"refusing to start: the snapshot in {options.DataDirectory} is unusable: {e.Message}", ExitCodes.BadInput, e);
        }
    }

    /// <summary>Waits for Ctrl-C/SIGTERM, an Admin.Shutdown request, the death of the parent process, or a storage
    /// failure.</summary>
    private static async Task<string> WaitForStopAsync(FlotillaServer server, int? parentPid, CancellationToken ct)
    {
        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult("SIGTERM"); });
        using var registration = ct.Register(() => stop.TrySetResult("interrupted"));
        _ = server.ShutdownRequested.ContinueWith(_ => stop.TrySetResult("shutdown requested"), TaskScheduler.Default);
        _ = server.StorageFailed.ContinueWith(t => stop.TrySetResult(t.Result), TaskScheduler.Default);
        if (parentPid is { } pid)
        {
            _ = Task.Run(async () =>
            {
                while (!stop.Task.IsCompleted)
                {
                    if (!IsAlive(pid)) stop.TrySetResult($"parent process {pid} exited");
                    await Task.Delay(500);
                }
            });
        }
        return await stop.Task;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static bool CanBind(IPEndPoint endpoint)
    {
        try
        {
            using var probe = new System.Net.Sockets.Socket(endpoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            probe.Bind(endpoint);
            return true;
        }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    private static IPEndPoint ParseEndPoint(string text, string option)
    {
        var value = text.Contains("://") ? new Uri(text).Authority : text;
        if (value.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase)) value = "127.0.0.1" + value["localhost".Length..];
        return IPEndPoint.TryParse(value, out var endPoint) && endPoint.Port > 0
            ? endPoint
            : throw new CliException($"{option}: '{text}' is not IP:PORT", ExitCodes.Usage);
    }
}
