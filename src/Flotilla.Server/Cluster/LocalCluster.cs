using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flotilla.Server.Protos;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server.Cluster;

/// <summary>How to run the flotilla executable: the file, and arguments that come before the command
/// (e.g. <c>dotnet</c> + <c>flotilla.dll</c>).</summary>
public sealed record FlotillaInvocation(string FileName, IReadOnlyList<string> Prefix);

public sealed record LocalClusterOptions
{
    public required int Nodes { get; init; }

    /// <summary>The cluster's directory: node-N/ data directories, logs, and cluster.json.</summary>
    public required string Directory { get; init; }

    public required FlotillaInvocation Flotilla { get; init; }

    /// <summary>First port; members use consecutive ports from it. 0 picks free ports.</summary>
    public int BasePort { get; init; }

    /// <summary>How long to wait for every member to answer its Admin service.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How members carry Raft traffic: framed TCP on a second port each (the default, the faster path) or
    /// gRPC on the client port.</summary>
    public PeerProtocol PeerProtocol { get; init; } = PeerProtocol.Tcp;

    /// <summary>Extra arguments for every <c>flotilla server</c>.</summary>
    public IReadOnlyList<string> ServerArguments { get; init; } = [];

    /// <summary>How to reach the members' Admin service when <see cref="ServerArguments"/> turn TLS on; null: cleartext.</summary>
    public AdminTls? AdminTls { get; init; }
}

/// <summary>
/// A cluster of separate <c>flotilla server</c> processes on loopback, as <c>flotilla cluster start</c> and the
/// real-process tests run it. Each member logs to node-N/server.log; the members watch this process and exit if it
/// dies, so a killed launcher leaves no orphans behind. cluster.json records each member's current process and command
/// line: <c>flotilla cluster restart</c> (<see cref="MemberRestart"/>) relaunches a member and updates it, and this
/// class follows the member through it (<see cref="ProcessId(int)"/>, <see cref="WhenAllExitedAsync"/>, <see cref="StopAsync"/>).
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly LocalClusterOptions _options;
    private readonly Dictionary<int, Process> _processes = new();
    private readonly Dictionary<int, string> _addresses = new();
    private readonly Dictionary<int, string> _peerAddresses = new();
    private readonly Dictionary<int, IReadOnlyList<string>> _commands = new();
    private readonly Dictionary<int, string> _adminAddresses = new();
    private readonly Dictionary<int, string> _consoleAddresses = new();
    private List<int> _initialVoters = [];
    private int _nextId;

    private LocalCluster(LocalClusterOptions options)
    {
        _options = options;
        ClusterId = ClusterSecrets.ClusterIdFor(options.Directory);
        SaveClusterFile = () => File.Save(ClusterFilePath);
    }

    /// <summary>Names this cluster on every peer connection (derived from the directory; not secret).</summary>
    public string ClusterId { get; }

    /// <summary>The admin token every member checks (from DIR/admin.token, made at the first start).</summary>
    public string AdminToken { get; private set; } = "";

    /// <summary>Where each member serves the Admin service (a loopback port of its own, not the client port).</summary>
    public IReadOnlyDictionary<int, string> AdminAddresses => _adminAddresses;

    /// <summary>Where each member serves its read-only web console (HTTP/1.1, a loopback port of its own).</summary>
    public IReadOnlyDictionary<int, string> ConsoleAddresses => _consoleAddresses;

    /// <summary>The console to open first: member 1's (every member's console shows the whole cluster).</summary>
    public string ConsoleUrl => _consoleAddresses[MemberIds.First()] + "/";

    public string ClusterFilePath => Path.Combine(_options.Directory, "cluster.json");

    /// <summary>Rewrites <see cref="ClusterFilePath"/> after a relaunch. A store built on these processes that writes
    /// a cluster file of its own kind (the sharded store) replaces this, so a relaunch keeps that kind and its fields.</summary>
    public Action SaveClusterFile { get; set; }

    public IReadOnlyDictionary<int, string> Addresses => _addresses;

    /// <summary>The members, as cluster.json now lists them (after <c>cluster add|remove|replace</c>).</summary>
    public IEnumerable<int> MemberIds
    {
        get
        {
            Refresh();
            return Ids;
        }
    }

    private IEnumerable<int> Ids => _addresses.Keys.Order().ToList();

    public ClusterFile File
    {
        get
        {
            Refresh();
            var recorded = RecordedPids();
            return new ClusterFile
            {
                Kind = ClusterKinds.ReplicatedKv,
                ClusterId = ClusterId,
                AdminTokenFile = ClusterSecrets.AdminTokenFileName,
                Endpoints = Ids.Select(id => _addresses[id]).ToList(),
                SupervisorPid = Environment.ProcessId,
                InitialVoters = _initialVoters,
                NextId = Math.Max(_nextId, Ids.Concat(_initialVoters).DefaultIfEmpty(0).Max() + 1),
                Members = Ids.Select(id => new ClusterMember
                {
                    Id = id,
                    Address = _addresses[id],
                    PeerAddress = _peerAddresses.GetValueOrDefault(id),
                    AdminAddress = _adminAddresses.GetValueOrDefault(id),
                    ConsoleAddress = _consoleAddresses.GetValueOrDefault(id),
                    Pid = ProcessId(id, recorded) ?? 0,
                    DataDirectory = DataDirectory(id),
                    LogFile = LogFile(id),
                    Command = _commands.GetValueOrDefault(id),
                }).ToList(),
            };
        }
    }

    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Nodes is < 1 or > 9) throw new ArgumentException($"a local cluster has 1 to 9 nodes, not {options.Nodes}");
        // Client ports first, then (with framed-TCP peers) one peer port per member, then one admin port per member, then
        // one console port per member.
        var tcpPeers = options.PeerProtocol == PeerProtocol.Tcp;
        var portCount = PortsPerMember(options.PeerProtocol) * options.Nodes;
        var basePortMax = IPEndPoint.MaxPort - portCount + 1;
        if (options.BasePort != 0 && (options.BasePort < 1 || options.BasePort > basePortMax))
            throw new ArgumentOutOfRangeException(nameof(options), $"the base port must be 0 (free ports) or 1..{basePortMax} ({portCount} consecutive ports), not {options.BasePort}");
        System.IO.Directory.CreateDirectory(options.Directory);
        // Free ports are found by binding and letting go, so another process can take one before our member binds it
        // (seen with parallel test clusters): such a start is tried again on fresh ports. Ports the caller
        // chose (BasePort) are not, since they are checked up front and a clash there is the caller's to see.
        const int attemptsWithFreePorts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var cluster = new LocalCluster(options);
            cluster.ClaimDirectory();
            cluster.AdminToken = ClusterSecrets.Prepare(options.Directory);
            var ports = options.BasePort > 0
                ? Enumerable.Range(options.BasePort, portCount).ToList()
                : LoopbackPorts.PickFree(portCount);
            for (var i = 1; i <= options.Nodes; i++)
            {
                cluster._addresses[i] = $"http://127.0.0.1:{ports[i - 1]}";
                if (tcpPeers) cluster._peerAddresses[i] = $"tcp://127.0.0.1:{ports[options.Nodes + i - 1]}";
                cluster._adminAddresses[i] = $"http://127.0.0.1:{ports[portCount - 2 * options.Nodes + i - 1]}";
                cluster._consoleAddresses[i] = $"http://127.0.0.1:{ports[portCount - options.Nodes + i - 1]}";
            }
            cluster._initialVoters = cluster.Ids.ToList();
            // Chosen ports held by someone else (another cluster, most likely) fail here, naming the port, rather than as
            // members that die while the other cluster answers in their place.
            if (options.BasePort > 0) cluster.CheckPortsFree();
            try
            {
                // The one start that bootstraps: every later launch (a restart) refuses an empty data directory.
                foreach (var id in cluster.Ids) cluster.Launch(id, InitialState.New);
                await cluster.WaitReadyAsync(options.ReadyTimeout, cancellationToken);
                cluster.File.Save(cluster.ClusterFilePath);
                return cluster;
            }
            catch (InvalidOperationException e) when (options.BasePort == 0 && attempt < attemptsWithFreePorts
                                                       && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                await cluster.DisposeAsync();
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Ports each member takes: client, framed-TCP peer (with <see cref="PeerProtocol.Tcp"/>), admin, console.</summary>
    public static int PortsPerMember(PeerProtocol protocol) => protocol == PeerProtocol.Tcp ? 4 : 3;

    public string DataDirectory(int id) => Path.Combine(_options.Directory, $"node-{id}");

    public string LogFile(int id) => Path.Combine(DataDirectory(id), "server.log");

    /// <summary>The member's running process: the one this class launched, or the one cluster.json records for it
    /// (after <c>flotilla cluster restart</c>); null if neither runs.</summary>
    public int? ProcessId(int id)
    {
        Refresh();
        return ProcessId(id, RecordedPids());
    }

    private int? ProcessId(int id, IReadOnlyDictionary<int, int> recorded)
    {
        if (_processes.TryGetValue(id, out var p) && !HasExited(p)) return p.Id;
        // The recorded pid of our own exited process is dead whatever now runs under that number (pids are reused).
        return recorded.TryGetValue(id, out var pid) && (p is null || p.Id != pid) && ProcessLiveness.IsAlive(pid) ? pid : null;
    }

    /// <summary>The process ids cluster.json records (empty before it is written, or if it cannot be read).</summary>
    private IReadOnlyDictionary<int, int> RecordedPids()
    {
        if (!System.IO.File.Exists(ClusterFilePath)) return new Dictionary<int, int>();
        try
        {
            return ClusterFile.Load(ClusterFilePath).Members.Where(m => m.Pid > 0 && _addresses.ContainsKey(m.Id)).ToDictionary(m => m.Id, m => m.Pid);
        }
        catch (ClusterFileException)
        {
            return new Dictionary<int, int>();
        }
    }

    /// <summary>Refuses a directory whose cluster.json belongs to a running cluster; removes a stale one, so a start
    /// that fails leaves no cluster.json behind.</summary>
    private void ClaimDirectory()
    {
        if (!System.IO.File.Exists(ClusterFilePath)) return;
        try
        {
            var old = ClusterFile.Load(ClusterFilePath);
            if (old.SupervisorPid != Environment.ProcessId && ProcessLiveness.IsAlive(old.SupervisorPid))
                throw new InvalidOperationException($"{_options.Directory} holds a running cluster (supervised by pid {old.SupervisorPid}); stop it or pick another directory");
        }
        catch (ClusterFileException) { }
        System.IO.File.Delete(ClusterFilePath);
    }

    private void CheckPortsFree()
    {
        var ports = Ids.Select(id => (Uri: new Uri(_addresses[id]), What: $"member {id}'s client port"))
            .Concat(_peerAddresses.Select(kv => (Uri: new Uri(kv.Value), What: $"member {kv.Key}'s peer port")));
        foreach (var (uri, what) in ports)
        {
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, uri.Port));
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"cannot listen on 127.0.0.1:{uri.Port} ({what}): {e.Message}", e);
            }
        }
    }

    /// <summary>Starts (or restarts) member <paramref name="id"/> on its old data directory. It never bootstraps: a member
    /// whose directory was wiped refuses to start (the empty-disk rule; replace it under a new id).</summary>
    public void Launch(int id)
    {
        Refresh();
        Launch(id, InitialState.Existing);
    }

    /// <summary>The <c>--initial-state</c> a launch passes: only the cluster's first start is "new".</summary>
    private static class InitialState
    {
        public const string New = "new";
        public const string Existing = "existing";
    }

    /// <summary>Follows cluster.json: members that <c>flotilla cluster add</c> / <c>replace</c> added (with their
    /// addresses and command lines) are adopted, members <c>cluster remove</c> took out are forgotten, and every
    /// member's recorded command line (which names the members) is kept current.</summary>
    public void Refresh()
    {
        if (!System.IO.File.Exists(ClusterFilePath)) return;
        ClusterFile file;
        try { file = ClusterFile.Load(ClusterFilePath); }
        catch (ClusterFileException) { return; }
        if (file.Members.Count == 0) return;
        foreach (var m in file.Members)
        {
            _addresses[m.Id] = m.Address;
            if (m.PeerAddress is { } peer) _peerAddresses[m.Id] = peer;
            if (m.AdminAddress is { } admin) _adminAddresses[m.Id] = admin;
            if (m.ConsoleAddress is { } console) _consoleAddresses[m.Id] = console;
            if (m.Command is { } command) _commands[m.Id] = command;
        }
        foreach (var gone in _addresses.Keys.Where(id => file.Members.All(m => m.Id != id)).ToList())
        {
            _addresses.Remove(gone);
            _peerAddresses.Remove(gone);
            _adminAddresses.Remove(gone);
            _consoleAddresses.Remove(gone);
            _commands.Remove(gone);
        }
        _nextId = Math.Max(_nextId, file.NextId);
        if (file.InitialVoters.Count > 0) _initialVoters = file.InitialVoters.ToList();
    }

    private void Launch(int id, string initialState)
    {
        if (_processes.TryGetValue(id, out var old) && !HasExited(old)) throw new InvalidOperationException($"member {id} is running");
        var data = DataDirectory(id);
        System.IO.Directory.CreateDirectory(data);
        var start = new ProcessStartInfo(_options.Flotilla.FileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };
        var members = string.Join(",", Ids.Select(m => $"{m}={new Uri(_addresses[m]).Authority}"));
        foreach (var a in _options.Flotilla.Prefix) start.ArgumentList.Add(a);
        foreach (var a in new[] { "server", "--id", id.ToString(), "--listen", new Uri(_addresses[id]).Authority, "--members", members,
                     "--data", data, "--parent-pid", Environment.ProcessId.ToString() })
            start.ArgumentList.Add(a);
        // Secrets travel by file path: a command line is visible to every user through ps.
        foreach (var a in new[] { "--cluster-id", ClusterId, "--cluster-secret-file", ClusterSecrets.SecretFile(_options.Directory),
                     "--admin-token-file", ClusterSecrets.AdminTokenFile(_options.Directory), "--admin-listen", new Uri(_adminAddresses[id]).Authority,
                     "--console", new Uri(_consoleAddresses[id]).Authority })
            start.ArgumentList.Add(a);
        if (_peerAddresses.Count > 0)
        {
            start.ArgumentList.Add("--peer-urls");
            start.ArgumentList.Add(string.Join(",", Ids.Select(m => $"{m}={_peerAddresses[m]}")));
        }
        start.ArgumentList.Add("--initial-voters");
        start.ArgumentList.Add(string.Join(",", _initialVoters));
        foreach (var a in _options.ServerArguments) start.ArgumentList.Add(a);
        // What a restart runs (cluster.json, 'cluster restart'): never the bootstrap.
        _commands[id] = [start.FileName, .. start.ArgumentList, "--initial-state", InitialState.Existing];
        start.ArgumentList.Add("--initial-state");
        start.ArgumentList.Add(initialState);
        var log = new StreamWriter(LogFile(id), append: true) { AutoFlush = true };
        var logClosed = false;
        // Exited can fire before the output readers have delivered the process's last lines (its error line among
        // them): the handler first waits for them (WaitForExit() returns once redirected output reaches its end), and
        // a line arriving after the log is closed anyway is dropped rather than thrown on a thread-pool thread.
        void Append(string? line)
        {
            if (line is null) return;
            lock (log)
                if (!logClosed) log.WriteLine(line);
        }
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Exited += (_, _) =>
        {
            try { process.WaitForExit(); }
            catch (InvalidOperationException) { } // disposed meanwhile: nothing more will arrive
            lock (log)
            {
                logClosed = true;
                log.Dispose();
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[id] = process;
        // A relaunch after start (tests, the demo) keeps cluster.json's pid current for other commands.
        if (System.IO.File.Exists(ClusterFilePath)) SaveClusterFile();
    }

    /// <summary>Completes when every member has exited (e.g. after <c>flotilla cluster stop</c>), following members that
    /// <c>cluster restart</c> relaunched through cluster.json. "Every member down" must hold on two polls in a row, so
    /// the moment of a restart between the old process's exit and the new pid's record does not count.</summary>
    public async Task WhenAllExitedAsync(CancellationToken cancellationToken)
    {
        var downPolls = 0;
        while (true)
        {
            Refresh();
            var recorded = RecordedPids();
            downPolls = Ids.Any(id => ProcessId(id, recorded) is not null) ? 0 : downPolls + 1;
            if (downPolls >= 2) return;
            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>kill -9 of one member: no shutdown, no flush.</summary>
    public void Kill(int id)
    {
        if (_processes.TryGetValue(id, out var p) && !HasExited(p))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
        else if (ProcessId(id) is { } adopted)
        {
            ProcessLiveness.KillAsync(adopted, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        }
    }

    /// <summary>Waits until every running member answers its Admin service.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var id in Ids)
        {
            using var admin = Admin(id);
            while (true)
            {
                var launched = _processes.TryGetValue(id, out var p) ? p : null;
                if (launched is not null && HasExited(launched))
                    throw new InvalidOperationException($"member {id} exited with code {launched.ExitCode} during start: {LastError(LogFile(id))} (log: {LogFile(id)})");
                // Ready only when our own process answers: something else on the port (another cluster) does not count.
                if (await admin.TryStatusAsync(TimeSpan.FromSeconds(1), cancellationToken) is { } status && (launched is null || status.Pid == launched.Id)) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"member {id} did not answer within {timeout.TotalSeconds:0} s; see {LogFile(id)}");
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>Every member's status (null for a member that does not answer).</summary>
    public async Task<IReadOnlyDictionary<int, StatusReply?>> StatusAsync(TimeSpan timeout)
    {
        var result = new Dictionary<int, StatusReply?>();
        Refresh();
        foreach (var id in Ids)
        {
            using var admin = Admin(id);
            result[id] = ProcessId(id) is null ? null : await admin.TryStatusAsync(timeout);
        }
        return result;
    }

    /// <summary>Stops every member cleanly (Admin.Shutdown), killing any that has not exited within the grace period.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        var wait = grace ?? TimeSpan.FromSeconds(10);
        Refresh();
        var recorded = RecordedPids();
        var running = Ids.Select(id => (Id: id, Pid: ProcessId(id, recorded))).Where(m => m.Pid is not null).ToList();
        foreach (var (id, _) in running)
        {
            using var admin = Admin(id);
            await admin.TryShutdownAsync(TimeSpan.FromSeconds(2));
        }
        foreach (var process in _processes.Values)
        {
            using var cts = new CancellationTokenSource(wait);
            try { await process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
        }
        // Members relaunched by 'cluster restart' are not our children: wait on their pids.
        foreach (var (_, pid) in running.Where(m => !_processes.Values.Any(p => p.Id == m.Pid)))
        {
            if (!await ProcessLiveness.WaitExitAsync(pid!.Value, wait)) await ProcessLiveness.KillAsync(pid.Value, TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>A client of member <paramref name="id"/>'s Admin service, with the token.</summary>
    public AdminClient Admin(int id)
    {
        if (!_adminAddresses.ContainsKey(id)) Refresh();
        return AdminUnrefreshed(id);
    }

    private AdminClient AdminUnrefreshed(int id) => new(new Uri(_adminAddresses[id]), AdminToken, _options.AdminTls);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        foreach (var p in _processes.Values) p.Dispose();
    }

    private static bool HasExited(Process p)
    {
        try { return p.HasExited; }
        catch (InvalidOperationException) { return true; }
    }

    /// <summary>The member's own error line from its log (<c>flotilla: error: ...</c>), else its last line.</summary>
    internal static string LastError(string? path)
    {
        try
        {
            var lines = path is null ? [] : System.IO.File.ReadLines(path).Where(l => l.Trim().Length > 0).TakeLast(50).ToList();
            var error = lines.LastOrDefault(l => l.StartsWith("flotilla: error: ", StringComparison.Ordinal));
            return error?["flotilla: error: ".Length..] ?? lines.LastOrDefault() ?? "no output";
        }
        catch (IOException) { return "no output"; }
    }
}
