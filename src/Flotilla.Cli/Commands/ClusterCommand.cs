using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Flotilla.Cli.Bench;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;
using Flotilla.Server.Protos;
using Flotilla.Transport.Grpc;
using Spectre.Console;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla cluster start|status|stop|restart|transfer|add|remove|replace</c>: a local cluster of separate server processes.</summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var command = new Command("cluster", "Start, inspect and stop a local cluster of flotilla server processes.");
        command.Subcommands.Add(Start());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Stop());
        command.Subcommands.Add(Restart());
        command.Subcommands.Add(ClusterTransfer.Create(ClusterOption, AdminTokenOption));
        foreach (var membership in ClusterMembership.Create(ClusterFileOption)) command.Subcommands.Add(membership);
        return command;
    }

    private static readonly Option<string> ClusterOption = new("--cluster")
    {
        Description = "The cluster: a cluster.json path, or comma-separated HOST:PORT endpoints.",
        Required = true,
    };

    /// <summary>Membership commands change cluster.json, so they take the file, not a list of endpoints.</summary>
    private static readonly Option<string> ClusterFileOption = new("--cluster")
    {
        Description = "The cluster.json that 'flotilla cluster start' wrote.",
        Required = true,
    };

    private static readonly Option<string?> AdminTokenOption = new("--admin-token-file")
    {
        Description = "File holding the admin token (default: the one named in cluster.json).",
    };

    private static Command Start()
    {
        var nodes = new Option<int>("--nodes") { Description = "How many members (1 to 9).", DefaultValueFactory = _ => 3 };
        var dir = new Option<string>("--dir") { Description = "The cluster's directory (member data, logs, cluster.json).", Required = true };
        var basePort = new Option<int>("--base-port") { Description = "First port (members use consecutive ports); 0 picks free ports.", DefaultValueFactory = _ => 0 };
        var snapshot = new Option<long?>("--snapshot-threshold") { Description = "Passed to every member (bytes)." };
        var peerProtocol = new Option<string>("--peer-protocol")
        {
            Description = "How members carry Raft traffic: tcp (framed TCP on a second port each, the faster path) or grpc (on the client port).",
            DefaultValueFactory = _ => "tcp",
        };
        peerProtocol.AcceptOnlyFromAmong("tcp", "grpc");
        var reads = new Option<string>("--reads")
        {
            Description = "Passed to every member: where gets are answered, leader (ReadIndex), lease (the leader's lease) or follower (any member); see 'flotilla server --help'.",
            DefaultValueFactory = _ => "leader",
        };
        reads.AcceptOnlyFromAmong("leader", "lease", "follower");
        var command = new Command("start", "Start a local cluster of separate server processes, write DIR/cluster.json, and stay in the foreground until Ctrl-C.")
        {
            nodes, dir, basePort, snapshot, peerProtocol, reads,
        };
        ShardedClusterStart.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var count = parse.GetValue(nodes);
            if (count is < 1 or > 9) throw new CliException("--nodes must be between 1 and 9", ExitCodes.Usage);
            var directory = Path.GetFullPath(parse.GetValue(dir)!);
            var extra = new List<string>();
            if (parse.GetValue(snapshot) is { } s) extra.AddRange(["--snapshot-threshold", s.ToString()]);
            if (parse.GetValue(reads) is { } r && r != "leader")
            {
                // The sharded store's groups read through their leaders only (the server refuses the flag there).
                if (ShardedClusterStart.Requested(parse)) throw new CliException($"--reads {r} is for the replicated store; the sharded store (--groups) reads through each group's leader", ExitCodes.Usage);
                extra.AddRange(["--reads", r]);
            }
            var protocol = parse.GetValue(peerProtocol) == "grpc" ? PeerProtocol.Grpc : PeerProtocol.Tcp;
            var ports = LocalCluster.PortsPerMember(protocol) * count; // client, (framed-TCP peer,) admin, console port per member
            if (parse.GetValue(basePort) is var first && first != 0 && (first < 1 || first > 65536 - ports))
                throw new CliException($"--base-port must be 0 (free ports) or 1..{65536 - ports}: {count} members use {ports} consecutive ports, not from {first}", ExitCodes.Usage);
            if (ShardedClusterStart.Requested(parse)) return await ShardedClusterStart.RunAsync(parse, count, directory, parse.GetValue(basePort), extra, protocol, ct);
            await using var cluster = await StartClusterAsync(count, directory, parse.GetValue(basePort), extra, ct, protocol);
            output.WriteLine($"Started a {count}-member cluster:");
            foreach (var member in cluster.File.Members)
                output.WriteLine($"  n{member.Id}  {member.Address}  pid {member.Pid}  data {member.DataDirectory}");
            output.WriteLine($"Cluster file: {cluster.ClusterFilePath}");
            output.WriteLine($"console: {cluster.ConsoleUrl}");
            output.WriteLine($"Try:  flotilla kv put greeting hello --version 0 --cluster {cluster.ClusterFilePath}");
            output.WriteLine($"      flotilla cluster status --cluster {cluster.ClusterFilePath}");
            return await SuperviseAsync(output, cluster.WhenAllExitedAsync, () => cluster.StopAsync(), ct);
        });
        return command;
    }

    internal static async Task<LocalCluster> StartClusterAsync(int nodes, string directory, int basePort, IReadOnlyList<string> serverArguments,
        CancellationToken ct, PeerProtocol peerProtocol = PeerProtocol.Tcp)
    {
        try
        {
            return await LocalCluster.StartAsync(new LocalClusterOptions
            {
                Nodes = nodes,
                Directory = directory,
                BasePort = basePort,
                Flotilla = SelfInvocation.Current(),
                ServerArguments = serverArguments,
                PeerProtocol = peerProtocol,
            }, ct);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message, ExitCodes.Usage, e);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new CliException($"the cluster did not start: {e.Message}", ExitCodes.Failure, e);
        }
    }

    /// <summary>The foreground part of <c>cluster start</c>, replicated or sharded: runs until Ctrl-C/SIGTERM (then stops
    /// the members) or until every member has exited by itself (e.g. <c>flotilla cluster stop</c>).</summary>
    internal static async Task<int> SuperviseAsync(TextWriter output, Func<CancellationToken, Task> whenAllExited, Func<Task> stop, CancellationToken ct)
    {
        output.WriteLine("Press Ctrl-C to stop.");
        using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var interrupt = WaitForInterruptAsync(interrupted.Token);
        var allExited = whenAllExited(interrupted.Token);
        if (await Task.WhenAny(interrupt, allExited) == allExited && allExited.IsCompletedSuccessfully)
        {
            output.WriteLine("Every member has exited (stopped with 'flotilla cluster stop'?).");
            return ExitCodes.Ok;
        }
        await interrupted.CancelAsync();
        output.WriteLine("Stopping the cluster...");
        await stop();
        output.WriteLine("Stopped.");
        return ExitCodes.Ok;
    }

    /// <summary>Ctrl-C (the token) or SIGTERM: how a foreground <c>cluster start</c>, replicated or sharded, is stopped.</summary>
    private static async Task WaitForInterruptAsync(CancellationToken ct)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var registration = ct.Register(() => stop.TrySetResult());
        await stop.Task;
    }

    private static Command Status()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per member, in an array." };
        var command = new Command("status", "Show each member's id, address, process id, role, term, commit and applied index, log and snapshot sizes.")
        {
            ClusterOption, json, AdminTokenOption,
        };
        command.SetAction(async parse =>
        {
            var (endpoints, token) = AdminTargets.Resolve(parse.GetValue(ClusterOption)!, parse.GetValue(AdminTokenOption));
            var rows = new List<(Uri Endpoint, StatusReply? Status)>();
            foreach (var endpoint in endpoints)
            {
                using var admin = new AdminClient(endpoint, token);
                rows.Add((endpoint, await admin.TryStatusAsync(TimeSpan.FromSeconds(3))));
                if (AdminTargets.Explain(admin.LastError) is { } why) parse.InvocationConfiguration.Error.WriteLine($"flotilla: {endpoint}: {why}");
            }
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) PrintJson(rows, output);
            else PrintTable(rows, output);
            if (rows.Any(r => r.Status is not null)) return ExitCodes.Ok;
            parse.InvocationConfiguration.Error.WriteLine($"flotilla: error: no member answered (tried {Authorities(endpoints)})");
            return ExitCodes.Unavailable;
        });
        return command;
    }

    private static void PrintTable(List<(Uri Endpoint, StatusReply? Status)> rows, TextWriter output)
    {
        var table = new Table().AddColumns("id", "address", "pid", "role", "member", "term", "leader", "commit", "applied", "log entries", "on disk", "snapshot@", "snapshot size");
        foreach (var (endpoint, s) in rows)
        {
            if (s is null) table.AddRow("?", endpoint.ToString(), "-", "[red]unreachable[/]", "-", "-", "-", "-", "-", "-", "-", "-", "-");
            else table.AddRow($"n{s.Id}", s.Address, s.Pid.ToString(), RoleCell(s), MemberCell(s), s.Term.ToString(),
                s.Leader == 0 ? "-" : $"n{s.Leader}", s.CommitIndex.ToString(), s.AppliedIndex.ToString(), s.LogEntries.ToString(),
                Bytes(s.PersistedBytes), s.SnapshotIndex.ToString(), s.LastSnapshotBytes == 0 ? "-" : Bytes(s.LastSnapshotBytes));
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
        // Not a terminal (a pipe, a file): do not wrap the table at 80 columns.
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected) console.Profile.Width = 200;
        console.Write(table);
    }

    private static string RoleCell(StatusReply s)
    {
        var role = s.Role == "Leader" ? "[green]Leader[/]" : s.Role;
        return s.StorageError.Length == 0 ? role : $"{role} [red]{Markup.Escape(s.StorageError)}[/]";
    }

    /// <summary>Voter or learner, and "joint" while a membership change is in progress ("-" from an older server).</summary>
    private static string MemberCell(StatusReply s) =>
        s.MemberRole.Length == 0 ? "-" : s.Joint ? $"{s.MemberRole} [yellow](joint)[/]" : s.MemberRole;

    private static void PrintJson(List<(Uri Endpoint, StatusReply? Status)> rows, TextWriter output)
    {
        var items = rows.Select(r => r.Status is { } s
            ? new Dictionary<string, object?>
            {
                ["id"] = s.Id, ["address"] = s.Address, ["pid"] = s.Pid, ["role"] = s.Role, ["term"] = s.Term,
                ["leader"] = s.Leader == 0 ? null : s.Leader, ["commit_index"] = s.CommitIndex, ["applied_index"] = s.AppliedIndex,
                ["last_index"] = s.LastIndex, ["persisted_bytes"] = s.PersistedBytes, ["snapshot_index"] = s.SnapshotIndex,
                ["snapshots_taken"] = s.SnapshotsTaken, ["log_entries"] = s.LogEntries, ["last_snapshot_bytes"] = s.LastSnapshotBytes, ["uptime_ms"] = s.UptimeMs, ["reachable"] = true,
                ["storage_error"] = s.StorageError.Length == 0 ? null : s.StorageError,
                ["member_role"] = s.MemberRole.Length == 0 ? null : s.MemberRole, ["joint"] = s.Joint,
                ["membership"] = s.Membership.Length == 0 ? null : s.Membership,
            }
            : new Dictionary<string, object?> { ["address"] = r.Endpoint.ToString(), ["reachable"] = false });
        output.WriteLine(JsonSerializer.Serialize(items));
    }

    private static string Bytes(long n) => n switch
    {
        < 1 << 10 => $"{n} B",
        < 1 << 20 => $"{n / 1024.0:0.#} KiB",
        _ => $"{n / 1048576.0:0.#} MiB",
    };

    private static Command Stop()
    {
        var command = new Command("stop", "Ask every member of a cluster to stop cleanly.") { ClusterOption, AdminTokenOption };
        command.SetAction(async parse =>
        {
            var stopped = 0;
            var (endpoints, token) = AdminTargets.Resolve(parse.GetValue(ClusterOption)!, parse.GetValue(AdminTokenOption));
            foreach (var endpoint in endpoints)
            {
                using var admin = new AdminClient(endpoint, token);
                if (await admin.TryShutdownAsync(TimeSpan.FromSeconds(3))) stopped++;
                else if (AdminTargets.Explain(admin.LastError) is { } why) parse.InvocationConfiguration.Error.WriteLine($"flotilla: {endpoint}: {why}");
            }
            parse.InvocationConfiguration.Output.WriteLine($"asked {stopped} of {endpoints.Count} members to stop");
            if (stopped > 0) return ExitCodes.Ok;
            parse.InvocationConfiguration.Error.WriteLine($"flotilla: error: no member answered (tried {Authorities(endpoints)})");
            return ExitCodes.Unavailable;
        });
        return command;
    }

    private static string Authorities(IEnumerable<Uri> endpoints) => string.Join(", ", endpoints.Select(e => e.Authority));

    private static Command Restart()
    {
        var id = new Argument<int>("id") { Description = "The member to restart." };
        var cluster = new Option<string>("--cluster") { Description = "The cluster.json that 'flotilla cluster start' wrote.", Required = true };
        var timeout = new Option<int>("--timeout-seconds") { Description = "How long the new process has to answer.", DefaultValueFactory = _ => 60 };
        var command = new Command("restart", "Stop one member (cleanly, else kill -9) and start it again with the same command line; cluster.json and 'cluster start' follow the new process.")
        {
            id, cluster, timeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(cluster)!;
            ClusterEndpoints.Load(path);
            if (parse.GetValue(timeout) is var seconds && seconds <= 0) throw new CliException("--timeout-seconds must be positive", ExitCodes.Usage);
            ClusterMember member;
            try
            {
                member = await MemberRestart.RestartAsync(path, parse.GetValue(id), TimeSpan.FromSeconds(seconds), ct);
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message, ExitCodes.Usage, e);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or ClusterFileLockedException)
            {
                throw new CliException($"cannot restart member {parse.GetValue(id)}: {e.Message}", ExitCodes.Failure, e);
            }
            parse.InvocationConfiguration.Output.WriteLine($"restarted n{member.Id}  {member.Address}  pid {member.Pid}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
