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
/// dies, so a killed launcher leaves no orphans behind.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly LocalClusterOptions _options;
    private readonly Dictionary<int, Process> _processes = new();
    private readonly Dictionary<int, string> _addresses = new();
    private readonly Dictionary<int, string> _peerAddresses = new();
    private readonly Dictionary<int, string> _adminAddresses = new();

    private LocalCluster(LocalClusterOptions options)
    {
        _options = options;
        ClusterId = ClusterSecrets.ClusterIdFor(options.Directory);
    }

    /// <summary>Names this cluster on every peer connection (derived from the directory; not secret).</summary>
    public string ClusterId { get; }

    /// <summary>The admin token every member checks (from DIR/admin.token, made at the first start).</summary>
    public string AdminToken { get; private set; } = "";

    /// <summary>Where each member serves the Admin service (a loopback port of its own, not the client port).</summary>
    public IReadOnlyDictionary<int, string> AdminAddresses => _adminAddresses;

    public string ClusterFilePath => Path.Combine(_options.Directory, "cluster.json");

    public IReadOnlyDictionary<int, string> Addresses => _addresses;

    public IEnumerable<int> MemberIds => _addresses.Keys.Order();

    public ClusterFile File => new()
    {
        ClusterId = ClusterId,
        AdminTokenFile = ClusterSecrets.AdminTokenFileName,
        Endpoints = MemberIds.Select(id => _addresses[id]).ToList(),
        Members = MemberIds.Select(id => new ClusterMember
        {
            Id = id,
            Address = _addresses[id],
            PeerAddress = _peerAddresses.GetValueOrDefault(id),
            AdminAddress = _adminAddresses.GetValueOrDefault(id),
            Pid = _processes.TryGetValue(id, out var p) && !HasExited(p) ? p.Id : 0,
            DataDirectory = DataDirectory(id),
            LogFile = LogFile(id),
        }).ToList(),
    };

    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Nodes is < 1 or > 9) throw new ArgumentException($"a local cluster has 1 to 9 nodes, not {options.Nodes}");
        System.IO.Directory.CreateDirectory(options.Directory);
        var cluster = new LocalCluster(options);
        cluster.AdminToken = ClusterSecrets.Prepare(options.Directory);
        // Client ports first, then (with framed-TCP peers) one peer port per member, then one admin port per member.
        var tcpPeers = options.PeerProtocol == PeerProtocol.Tcp;
        var portCount = (tcpPeers ? 3 : 2) * options.Nodes;
        var ports = options.BasePort > 0
            ? Enumerable.Range(options.BasePort, portCount).ToList()
            : FreePorts(portCount);
        for (var i = 1; i <= options.Nodes; i++)
        {
            cluster._addresses[i] = $"http://127.0.0.1:{ports[i - 1]}";
            if (tcpPeers) cluster._peerAddresses[i] = $"tcp://127.0.0.1:{ports[options.Nodes + i - 1]}";
            cluster._adminAddresses[i] = $"http://127.0.0.1:{ports[portCount - options.Nodes + i - 1]}";
        }
        try
        {
            foreach (var id in cluster.MemberIds) cluster.Launch(id);
            await cluster.WaitReadyAsync(options.ReadyTimeout, cancellationToken);
            cluster.File.Save(cluster.ClusterFilePath);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public string DataDirectory(int id) => Path.Combine(_options.Directory, $"node-{id}");

    public string LogFile(int id) => Path.Combine(DataDirectory(id), "server.log");

    public int? ProcessId(int id) => _processes.TryGetValue(id, out var p) && !HasExited(p) ? p.Id : null;

    /// <summary>Starts (or restarts) member <paramref name="id"/> on its old data directory.</summary>
    public void Launch(int id)
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
        var members = string.Join(",", MemberIds.Select(m => $"{m}={new Uri(_addresses[m]).Authority}"));
        foreach (var a in _options.Flotilla.Prefix) start.ArgumentList.Add(a);
        foreach (var a in new[] { "server", "--id", id.ToString(), "--listen", new Uri(_addresses[id]).Authority, "--members", members,
                     "--data", data, "--parent-pid", Environment.ProcessId.ToString() })
            start.ArgumentList.Add(a);
        // Secrets travel by file path: a command line is visible to every user through ps.
        foreach (var a in new[] { "--cluster-id", ClusterId, "--cluster-secret-file", ClusterSecrets.SecretFile(_options.Directory),
                     "--admin-token-file", ClusterSecrets.AdminTokenFile(_options.Directory), "--admin-listen", new Uri(_adminAddresses[id]).Authority })
            start.ArgumentList.Add(a);
        if (_peerAddresses.Count > 0)
        {
            start.ArgumentList.Add("--peer-urls");
            start.ArgumentList.Add(string.Join(",", MemberIds.Select(m => $"{m}={_peerAddresses[m]}")));
        }
        foreach (var a in _options.ServerArguments) start.ArgumentList.Add(a);
        var log = new StreamWriter(LogFile(id), append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Exited += (_, _) => { lock (log) log.Dispose(); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[id] = process;
    }

    /// <summary>Completes when every member process has exited (e.g. after <c>flotilla cluster stop</c>).</summary>
    public async Task WhenAllExitedAsync(CancellationToken cancellationToken)
    {
        while (!_processes.Values.All(HasExited)) await Task.Delay(250, cancellationToken);
    }

    /// <summary>kill -9 of one member: no shutdown, no flush.</summary>
    public void Kill(int id)
    {
        if (_processes.TryGetValue(id, out var p) && !HasExited(p))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    /// <summary>Waits until every running member answers its Admin service.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var id in MemberIds)
        {
            using var admin = Admin(id);
            while (true)
            {
                if (_processes.TryGetValue(id, out var p) && HasExited(p))
                    throw new InvalidOperationException($"member {id} exited with code {p.ExitCode} during start; see {LogFile(id)}:\n{Tail(LogFile(id))}");
                if (await admin.TryStatusAsync(TimeSpan.FromSeconds(1), cancellationToken) is not null) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"member {id} did not answer within {timeout.TotalSeconds:0} s; see {LogFile(id)}");
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>Every member's status (null for a member that does not answer).</summary>
    public async Task<IReadOnlyDictionary<int, StatusReply?>> StatusAsync(TimeSpan timeout)
    {
        var result = new Dictionary<int, StatusReply?>();
        foreach (var id in MemberIds)
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
        foreach (var (id, process) in _processes.Where(kv => !HasExited(kv.Value)))
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
    }

    /// <summary>A client of member <paramref name="id"/>'s Admin service, with the token.</summary>
    public AdminClient Admin(int id) => new(new Uri(_adminAddresses[id]), AdminToken, _options.AdminTls);

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

    private static string Tail(string path)
    {
        try { return string.Join("\n", System.IO.File.ReadLines(path).TakeLast(15)); }
        catch (IOException) { return ""; }
    }

    private static List<int> FreePorts(int count)
    {
        // Hold every listener until all ports are chosen so the same port is not handed out twice.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
