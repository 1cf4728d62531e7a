using System.Diagnostics;
using Flotilla.Server;
using Flotilla.Server.Cluster;
using Flotilla.Server.Protos;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// The real <c>flotilla server</c> processes of a nemesis run, one per namespace of <see cref="NetnsTopology"/>, each
/// on REPORT/nodes/nI (data/ and server.log). Every member can be killed and started again with the same command line
/// and data directory; a restart may add disk-fault variables (<see cref="StorageFaults"/>). With latency or clock
/// faults, each member reads them from its control file (nI/faults.control); with disk-full faults, it keeps its data on a
/// small tmpfs of its own (<see cref="NemesisDisks"/>). The members watch this process (<c>--parent-pid</c>) and exit if it dies.
/// Every start says what an empty data directory means (<c>--initial-state</c>): <c>new</c> on the cluster's first
/// start, <c>existing</c> on restarts (a member whose disk is gone is refused, never bootstrapped again), <c>join</c>
/// for a member added later. The membership can change (member faults): members 1..n are the bootstrap voters
/// (<c>--initial-voters</c>, the same on every member), added members get ids above every id used before, and the n
/// slots the schedule aims at follow the replacements (<see cref="MemberAt"/>).
/// </summary>
public sealed class NemesisCluster : IAsyncDisposable
{
    public const int ClientPort = 7001;
    public const int PeerPort = 7002;
    public const int AdminPort = 7003;

    private readonly string _directory;
    private readonly Flotilla.Server.Cluster.FlotillaInvocation _flotilla;
    private readonly Dictionary<int, Process> _processes = [];
    private readonly HashSet<int> _paused = [];
    private readonly string _adminToken;
    private readonly string _clusterId;
    private readonly bool _runtimeFaults;
    private readonly List<int> _members;
    private readonly int[] _slots;
    private readonly string _initialVoters;
    private int _highestId;
    private readonly SortedSet<int> _everStarted = [];

    /// <summary>Every member ever started in this run (those that left the group too): whose directories the report holds.</summary>
    public IReadOnlyCollection<int> EverStarted => _everStarted;

    /// <summary>What a launch tells the member about an empty data directory (<c>--initial-state</c>).</summary>
    public enum StartState { New, Existing, Join }

    public NemesisCluster(int nodes, string directory, Flotilla.Server.Cluster.FlotillaInvocation flotilla, int groups = 0, int shards = 16, bool smallDisks = false,
        bool runtimeFaults = false)
    {
        _runtimeFaults = runtimeFaults;
        Disks = smallDisks ? new NemesisDisks(DataDirectory) : null;
        Nodes = nodes;
        _members = Enumerable.Range(1, nodes).ToList();
        _slots = Enumerable.Range(1, nodes).ToArray();
        _initialVoters = string.Join(",", _members);
        _highestId = nodes;
        Groups = groups;
        Shards = shards;
        _directory = directory;
        _flotilla = flotilla;
        Directory.CreateDirectory(directory);
        _adminToken = ClusterSecrets.Prepare(directory);
        _clusterId = ClusterSecrets.ClusterIdFor(directory);
    }

    /// <summary>The slots the schedule aims at (1..n): the cluster's size outside a member fault.</summary>
    public int Nodes { get; }

    /// <summary>0: the replicated KV; G: the sharded store with replica groups 1..G, each with a replica in every process.</summary>
    public int Groups { get; }

    public int Shards { get; }

    /// <summary>The group's members as this run last changed it (ids in order; more or fewer than <see cref="Nodes"/>
    /// while an add or a remove is in force).</summary>
    public IReadOnlyList<int> Members => _members;

    /// <summary>The member that holds slot <paramref name="slot"/> (1..<see cref="Nodes"/>) now.</summary>
    public int MemberAt(int slot) => _slots[slot - 1];

    /// <summary>The slot <paramref name="member"/> holds, or null (an added member not yet in one).</summary>
    public int? SlotOf(int member) => Array.IndexOf(_slots, member) is var i and >= 0 ? i + 1 : null;

    /// <summary>An id no member ever had: a member id is never reused (the empty-disk rule).</summary>
    public int NewMemberId() => ++_highestId;

    /// <summary>Records <paramref name="member"/> as in the group (a learner or voter now).</summary>
    public void Joined(int member)
    {
        if (!_members.Contains(member)) _members.Add(member);
        _members.Sort();
    }

    /// <summary>Records <paramref name="member"/> as out of the group; <paramref name="successor"/> takes its slot.</summary>
    public void Left(int member, int? successor)
    {
        _members.Remove(member);
        if (SlotOf(member) is { } slot && successor is { } next) _slots[slot - 1] = next;
    }

    /// <summary>Gives the slot a member without one (the slot's old member left earlier).</summary>
    public void TakeSlot(int slot, int member) => _slots[slot - 1] = member;

    /// <summary>Deletes everything in the member's data directory (its small disk stays mounted): the lost disk.</summary>
    public void Wipe(int node)
    {
        var directory = new DirectoryInfo(DataDirectory(node));
        if (!directory.Exists) return;
        foreach (var file in directory.EnumerateFiles()) file.Delete();
        foreach (var sub in directory.EnumerateDirectories()) sub.Delete(recursive: true);
    }

    public IReadOnlyList<Uri> ClientEndpoints => Members.Select(n => new Uri($"http://{NetnsTopology.Address(n)}:{ClientPort}")).ToList();

    public string NodeDirectory(int node) => Path.Combine(_directory, $"n{node}");

    public string DataDirectory(int node) => Path.Combine(NodeDirectory(node), "data");

    public string LogFile(int node) => Path.Combine(NodeDirectory(node), "server.log");

    public IReadOnlyCollection<int> Paused => _paused;

    /// <summary>The members' own small disks (disk-full faults), or null when their data is on the report's disk.</summary>
    public NemesisDisks? Disks { get; }

    /// <summary>Whether the members were started with the latency and clock hooks (<see cref="ControlFile"/>).</summary>
    public bool RuntimeFaults => _runtimeFaults;

    /// <summary>The file the member reads its latency and clock faults from (<see cref="Flotilla.Server.Faults.RuntimeFaults"/>).</summary>
    public string ControlFile(int node) => Path.Combine(NodeDirectory(node), "faults.control");

    /// <summary>Replaces the member's control file in one step (written aside, then renamed), so it never reads half of it.</summary>
    public void WriteControl(int node, string text)
    {
        var path = ControlFile(node);
        if (File.Exists(path) && File.ReadAllText(path) == text) return;
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>How many times members were started (first starts included).</summary>
    public int Launches { get; private set; }

    public async Task StartAllAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (Disks is not null)
            foreach (var node in Members) await Disks.MountAsync(node);
        foreach (var node in Members) Launch(node, state: StartState.New);
        foreach (var node in Members) await WaitReadyAsync(node, timeout, ct);
        if (Groups > 0) await JoinGroupsAsync(timeout, ct);
    }

    /// <summary>A controller client over every member, with the admin token (Join/Move need it).</summary>
    public Flotilla.Server.Sharding.ShardCtlClient Controller() => new(ClientEndpoints, _adminToken);

    /// <summary>Tells the controller about groups 1..G (every member serves each), as <c>cluster start --groups</c> does;
    /// the controller then spreads the shards over them.</summary>
    private async Task JoinGroupsAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var controller = Controller();
        var endpoints = (IReadOnlyList<string>)ClientEndpoints.Select(e => e.ToString().TrimEnd('/')).ToList();
        var groups = Enumerable.Range(1, Groups).ToDictionary(g => g, _ => endpoints);
        var joined = await controller.JoinAsync(groups, timeout, ct);
        if (joined.IsOk) return;
        // GroupExists: an attempt of ours that timed out was applied after all and the client's retry found it done.
        if (joined.Status == Flotilla.ShardCtl.Protos.CtlStatus.GroupExists
            && (await controller.QueryAsync(-1, timeout, ct)).Config is { } latest && Enumerable.Range(1, Groups).All(latest.Groups.ContainsKey))
            return;
        throw new InvalidOperationException($"the shard controller did not accept groups 1..{Groups}: {joined.Status} {joined.Error}");
    }

    /// <summary>Starts member <paramref name="node"/> on its data directory; <paramref name="faults"/> are disk faults for
    /// this process only. A restart (the default) names every current member in <c>--members</c>; a joining member
    /// names itself too (it is not in the group yet).</summary>
    public void Launch(int node, StorageFaults? faults = null, StartState state = StartState.Existing)
    {
        if (IsRunning(node)) throw new InvalidOperationException($"member {node} is running");
        Directory.CreateDirectory(DataDirectory(node));
        var listed = Members.Append(node).Distinct().Order().ToList();
        var members = string.Join(",", listed.Select(m => $"{m}={NetnsTopology.Address(m)}:{ClientPort}"));
        var peers = string.Join(",", listed.Select(m => $"{m}=tcp://{NetnsTopology.Address(m)}:{PeerPort}"));
        var self = NetnsTopology.Address(node);
        // Through the shell's exec, so the pid is the server's own and its output goes straight to the log file
        // (no pipe into this process, which a SIGSTOP of ours or a kill -9 of theirs could wedge).
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in new[] { "-c", "exec \"$@\" </dev/null >>\"$0\" 2>&1", LogFile(node), "ip", "netns", "exec", NetnsTopology.Namespace(node), _flotilla.FileName })
            start.ArgumentList.Add(a);
        foreach (var a in _flotilla.Prefix) start.ArgumentList.Add(a);
        foreach (var a in new[]
                 {
                     "server", "--id", node.ToString(), "--listen", $"{self}:{ClientPort}", "--members", members, "--peer-urls", peers,
                     "--data", DataDirectory(node), "--parent-pid", Environment.ProcessId.ToString(), "--cluster-id", _clusterId,
                     "--cluster-secret-file", ClusterSecrets.SecretFile(_directory), "--admin-token-file", ClusterSecrets.AdminTokenFile(_directory),
                     "--admin-listen", $"{self}:{AdminPort}",
                     // Small, so snapshots are taken (and installed on restarted members) within a short run.
                     "--snapshot-threshold", (256 << 10).ToString(),
                     "--initial-voters", _initialVoters,
                     "--initial-state", state switch { StartState.New => "new", StartState.Join => "join", _ => "existing" },
                 })
            start.ArgumentList.Add(a);
        if (Groups > 0)
            foreach (var a in new[] { "--shard-groups", string.Join(",", Enumerable.Range(1, Groups)), "--shards", Shards.ToString() })
                start.ArgumentList.Add(a);
        // With latency or clock faults in the run, every member reads them from its control file (no file: none);
        // otherwise the members run without the hooks at all, as in production.
        start.Environment.Remove(Flotilla.Server.Faults.RuntimeFaults.ControlVariable);
        if (_runtimeFaults) start.Environment[Flotilla.Server.Faults.RuntimeFaults.ControlVariable] = ControlFile(node);
        start.Environment.Remove(StorageFaults.FsyncDelayVariable);
        start.Environment.Remove(StorageFaults.FsyncFailVariable);
        if (faults is { FsyncDelayMs: > 0 }) start.Environment[StorageFaults.FsyncDelayVariable] = faults.FsyncDelayMs.ToString();
        if (faults is { FsyncFailPercent: > 0 }) start.Environment[StorageFaults.FsyncFailVariable] = faults.FsyncFailPercent.ToString();
        File.AppendAllText(LogFile(node), $"--- nemesis: starting n{node} ({state.ToString().ToLowerInvariant()}){(faults is { Any: true } ? $" with {faults}" : "")} at {DateTime.UtcNow:HH:mm:ss.fff}\n");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start member {node}");
        _everStarted.Add(node);
        if (_processes.Remove(node, out var old)) old.Dispose();
        _processes[node] = process;
        _paused.Remove(node);
        Launches++;
    }

    public bool IsRunning(int node) => _processes.TryGetValue(node, out var p) && !HasExited(p);

    public int? Pid(int node) => IsRunning(node) ? _processes[node].Id : null;

    /// <summary>How the member's last process ended ("exit code 134: its last log line"), for a member that is not running.</summary>
    public string DescribeExit(int node) =>
        _processes.TryGetValue(node, out var p) && HasExited(p) ? $"exit code {SafeExitCode(p)}: {LastLine(LogFile(node))}" : "running";

    private static string SafeExitCode(Process p)
    {
        try { return p.ExitCode.ToString(); }
        catch (InvalidOperationException) { return "?"; }
    }

    /// <summary>kill -9: no shutdown, no flush. A paused member dies too.</summary>
    public async Task KillAsync(int node)
    {
        if (!_processes.TryGetValue(node, out var p) || HasExited(p)) return;
        File.AppendAllText(LogFile(node), $"--- nemesis: kill -9 n{node} at {DateTime.UtcNow:HH:mm:ss.fff}\n");
        Signals.Kill(p.Id);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await p.WaitForExitAsync(wait.Token); }
        catch (OperationCanceledException) { throw new InvalidOperationException($"member {node} (pid {p.Id}) did not die after kill -9"); }
        _paused.Remove(node);
    }

    public void Pause(int node)
    {
        if (Pid(node) is { } pid && Signals.Stop(pid)) _paused.Add(node);
    }

    public void Resume(int node)
    {
        if (Pid(node) is { } pid) Signals.Continue(pid);
        _paused.Remove(node);
    }

    /// <summary>Waits until the member's own process answers its Admin service.</summary>
    public async Task WaitReadyAsync(int node, TimeSpan timeout, CancellationToken ct)
    {
        using var admin = Admin(node);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (!_processes.TryGetValue(node, out var p)) throw new InvalidOperationException($"member {node} was never started");
            if (HasExited(p)) throw new InvalidOperationException($"member {node} exited with code {p.ExitCode}: {LastLine(LogFile(node))} (log: {LogFile(node)})");
            if (await admin.TryStatusAsync(TimeSpan.FromSeconds(1), ct) is { } status && status.Pid == p.Id) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"member {node} did not answer within {timeout.TotalSeconds:0} s; see {LogFile(node)}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Every running, unpaused member's status (in parallel, short deadline); missing ones did not answer.</summary>
    public async Task<IReadOnlyDictionary<int, StatusReply>> StatusAsync(TimeSpan timeout)
    {
        var asks = Members.Where(n => IsRunning(n) && !_paused.Contains(n)).Select(async n =>
        {
            using var admin = Admin(n);
            return (Node: n, Status: await admin.TryStatusAsync(timeout));
        }).ToList();
        var answers = await Task.WhenAll(asks);
        return answers.Where(a => a.Status is not null).ToDictionary(a => a.Node, a => a.Status!);
    }

    /// <summary>The leader with the highest term among those that answer, if any.</summary>
    public async Task<int?> LeaderAsync()
    {
        var statuses = await StatusAsync(TimeSpan.FromMilliseconds(700));
        return statuses.Values.Where(s => s.Role == "Leader").OrderByDescending(s => s.Term).Select(s => (int?)s.Id).FirstOrDefault();
    }

    /// <summary>The member's Admin service, with the admin token (membership changes need it).</summary>
    public AdminClient Admin(int node) => new(new Uri($"http://{NetnsTopology.Address(node)}:{AdminPort}"), _adminToken);

    /// <summary>Resumes paused members and kills every member (the data stays for the report).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _paused.ToList()) Resume(node);
        // Every process ever started: members that left the group may still run (a removal that failed half-way).
        foreach (var node in _processes.Keys.ToList())
        {
            try { await KillAsync(node); }
            catch (InvalidOperationException) { }
        }
        foreach (var p in _processes.Values) p.Dispose();
        _processes.Clear();
        if (Disks is not null) await Disks.UnmountAllAsync();
    }

    /// <summary>The member's own error line (<c>flotilla: error: ...</c>), else the last line of its log.</summary>
    private static string LastLine(string log)
    {
        try
        {
            var lines = File.ReadLines(log).Where(l => l.Trim().Length > 0).TakeLast(50).ToList();
            return lines.LastOrDefault(l => l.StartsWith("flotilla: error: ", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "no output";
        }
        catch (IOException) { return "no output"; }
    }

    private static bool HasExited(Process p)
    {
        try { return p.HasExited; }
        catch (InvalidOperationException) { return true; }
    }
}
