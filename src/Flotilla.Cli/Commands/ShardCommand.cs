using System.CommandLine;
using System.Text.Json;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;
using Flotilla.Server.Sharding;
using Flotilla.ShardCtl.Protos;
using Flotilla.ShardGroup.Protos;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla shard status|join|leave|move</c>: inspect and reconfigure a sharded store through its
/// controller (<c>flotilla.shardctl.v1</c>).</summary>
public static class ShardCommand
{
    private static readonly Option<string> ClusterOption = new("--cluster")
    {
        Description = "The sharded store's cluster.json (written by 'flotilla cluster start --groups G').",
        Required = true,
    };

    private static readonly Option<string> TimeoutOption = new("--timeout")
    {
        Description = "Give up (exit 3) if the controller does not answer within this long.",
        DefaultValueFactory = _ => "10s",
    };

    private static readonly Option<string?> AdminTokenOption = new("--admin-token-file")
    {
        Description = "File holding the admin token Join/Leave/Move need (default: the one cluster.json names).",
    };

    public static Command Create()
    {
        var command = new Command("shard", "Inspect and reconfigure a sharded KV store: which group serves each shard, join/leave groups, move shards.");
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Join());
        command.Subcommands.Add(Leave());
        command.Subcommands.Add(Move());
        return command;
    }

    private static Command Status()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object: the configuration number, groups, and each shard's gid and state." };
        var command = new Command("status", "Show each shard's group, its state in that group (Serving, Pulling, ...) and the configuration number.")
        {
            ClusterOption, json, TimeoutOption,
        };
        command.SetAction(async parse =>
        {
            var file = ShardedClusterTarget.Load(parse.GetValue(ClusterOption)!);
            var timeout = KvCommand.ParseTimeout(parse.GetValue(TimeoutOption)!);
            using var controller = Controller(file);
            var latest = Require(await controller.QueryAsync(-1, timeout), "query the controller");
            var config = latest.Config!;
            var views = await GroupViewsAsync(config, TimeSpan.FromSeconds(2));
            var rows = Enumerable.Range(0, config.Shards.Count).Select(s =>
            {
                var gid = config.Shards[s];
                var view = views.GetValueOrDefault(gid);
                return new ShardRow(s, gid, view is null ? (gid == 0 ? "Unassigned" : "Unknown") : view.States[s], view?.ConfigNum);
            }).ToList();
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) PrintJson(config, rows, views, output);
            else PrintTable(config, rows, output);
            return ExitCodes.Ok;
        });
        return command;
    }

    private sealed record ShardRow(int Shard, int Gid, string State, int? GroupConfig);

    /// <summary>Each group's view from its leader (else the replica furthest along): its configuration and shard states.</summary>
    private static async Task<Dictionary<int, GroupStatusReply>> GroupViewsAsync(Config config, TimeSpan timeout)
    {
        var views = new Dictionary<int, GroupStatusReply>();
        foreach (var (gid, members) in config.Groups)
        {
            GroupStatusReply? best = null;
            foreach (var endpoint in members.Endpoints)
            {
                try
                {
                    using var channel = GrpcChannel.ForAddress(new Uri(endpoint));
                    var reply = await new ShardGroup.Protos.ShardGroup.ShardGroupClient(channel)
                        .StatusAsync(new GroupStatusRequest { Gid = gid }, deadline: DateTime.UtcNow + timeout);
                    if (!reply.Hosted) continue;
                    if (best is null || reply.Role == "Leader" || (best.Role != "Leader" && reply.ConfigNum > best.ConfigNum)) best = reply;
                    if (reply.Role == "Leader") break;
                }
                catch (Exception e) when (e is RpcException or UriFormatException) { }
            }
            if (best is not null) views[gid] = best;
        }
        return views;
    }

    private static void PrintTable(Config config, List<ShardRow> rows, TextWriter output)
    {
        output.WriteLine($"configuration {config.Num}; groups: {string.Join("; ", config.Groups.OrderBy(g => g.Key).Select(g => $"{g.Key} = {string.Join(",", g.Value.Endpoints)}"))}");
        var table = new Table().AddColumns("shard", "group", "state", "group's config");
        foreach (var row in rows)
        {
            var state = row.State switch { "Serving" => "[green]Serving[/]", "Unknown" => "[red]Unknown[/]", var s => s };
            table.AddRow(row.Shard.ToString(), row.Gid == 0 ? "-" : row.Gid.ToString(), state, row.GroupConfig?.ToString() ?? "-");
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected) console.Profile.Width = 200;
        console.Write(table);
    }

    private static void PrintJson(Config config, List<ShardRow> rows, Dictionary<int, GroupStatusReply> views, TextWriter output)
    {
        var document = new Dictionary<string, object?>
        {
            ["num"] = config.Num,
            ["groups"] = config.Groups.OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString(), g => g.Value.Endpoints.ToArray()),
            ["shards"] = rows.Select(r => new Dictionary<string, object?>
            {
                ["shard"] = r.Shard, ["gid"] = r.Gid, ["state"] = r.State, ["group_config"] = r.GroupConfig,
            }).ToList(),
            ["group_leaders"] = views.Where(v => v.Value.Role == "Leader").Select(v => v.Key).Order().ToList(),
        };
        output.WriteLine(JsonSerializer.Serialize(document));
    }

    private static Command Join()
    {
        var gid = new Argument<int>("GID") { Description = "The group to add (a positive id)." };
        var endpoints = new Option<string?>("--endpoints")
        {
            Description = "The group's members, comma-separated (default: every process of the cluster, which hosts a replica of each group it was started with).",
        };
        var command = new Command("join", "Add a replica group; the controller rebalances with the fewest shard moves.") { gid, endpoints, ClusterOption, TimeoutOption, AdminTokenOption };
        command.SetAction(async parse =>
        {
            var file = ShardedClusterTarget.Load(parse.GetValue(ClusterOption)!);
            var id = parse.GetValue(gid);
            if (id <= 0) throw new CliException($"group ids are positive integers, not {id}", ExitCodes.BadInput);
            IReadOnlyList<string> members;
            if (parse.GetValue(endpoints) is { } list)
            {
                members = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(e => e.Contains("://") ? e : "http://" + e).ToList();
                if (members.Count == 0) throw new CliException("--endpoints: no endpoints given", ExitCodes.Usage);
            }
            else if (file.Groups.ContainsKey(id))
            {
                members = file.Groups[id];
            }
            else
            {
                throw new CliException($"group {id} has no replicas in this cluster (its processes host groups {string.Join(",", file.Groups.Keys)}); give --endpoints", ExitCodes.BadInput);
            }
            using var controller = Controller(file, AdminToken(parse));
            var reply = await controller.JoinAsync(new Dictionary<int, IReadOnlyList<string>> { [id] = members }, Timeout(parse));
            return Report(parse, reply, $"group {id} joined");
        });
        return command;
    }

    private static Command Leave()
    {
        var gids = new Argument<int[]>("GID") { Description = "The group(s) to remove.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("leave", "Remove replica group(s); their shards move to the remaining groups.") { gids, ClusterOption, TimeoutOption, AdminTokenOption };
        command.SetAction(async parse =>
        {
            var file = ShardedClusterTarget.Load(parse.GetValue(ClusterOption)!);
            var ids = parse.GetValue(gids)!;
            using var controller = Controller(file, AdminToken(parse));
            var reply = await controller.LeaveAsync(ids, Timeout(parse));
            return Report(parse, reply, $"group(s) {string.Join(",", ids)} left", ids);
        });
        return command;
    }

    private static Command Move()
    {
        var shard = new Argument<int>("SHARD") { Description = "The shard (0 to shards-1)." };
        var gid = new Argument<int>("GID") { Description = "The group that is to serve it." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the new owner serves the shard (its data moved)." };
        var command = new Command("move", "Assign one shard to one group; its data moves there while other shards keep serving.") { shard, gid, ClusterOption, TimeoutOption, AdminTokenOption, wait };
        command.SetAction(async parse =>
        {
            var file = ShardedClusterTarget.Load(parse.GetValue(ClusterOption)!);
            var s = parse.GetValue(shard);
            var g = parse.GetValue(gid);
            if (s < 0 || s >= file.Shards) throw new CliException($"shard {s} is out of range: this store has shards 0 to {file.Shards - 1}", ExitCodes.BadInput);
            using var controller = Controller(file, AdminToken(parse));
            var timeout = Timeout(parse);
            var reply = await controller.MoveAsync(s, g, timeout);
            var code = Report(parse, reply, $"shard {s} moves to group {g}", [g], s);
            if (code == ExitCodes.Ok && parse.GetValue(wait)) await WaitServedAsync(reply.Config!, s, g, timeout);
            return code;
        });
        return command;
    }

    private static async Task WaitServedAsync(Config config, int shard, int gid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var views = await GroupViewsAsync(new Config { Num = config.Num, Groups = { [gid] = config.Groups[gid] } }, TimeSpan.FromSeconds(1));
            if (views.TryGetValue(gid, out var view) && view.Role == "Leader" && view.ConfigNum >= config.Num && view.States[shard] == "Serving") return;
            if (DateTime.UtcNow > deadline) throw new CliException($"group {gid} did not serve shard {shard} within {timeout.TotalSeconds:0.#} s (configuration {config.Num})", ExitCodes.Unavailable);
            await Task.Delay(100);
        }
    }

    private static ShardCtlClient Controller(ShardedClusterFile file, string? adminToken = null) =>
        new(file.Endpoints.Select(e => new Uri(e.Contains("://") ? e : "http://" + e)).ToList(), adminToken);

    /// <summary>The admin token Join/Leave/Move present: <c>--admin-token-file</c>, else the file cluster.json names
    /// (next to it), else none (the server then refuses the change).</summary>
    private static string? AdminToken(ParseResult parse)
    {
        var clusterPath = parse.GetValue(ClusterOption)!;
        var path = parse.GetValue(AdminTokenOption);
        if (path is null && ShardedClusterTarget.Load(clusterPath).AdminTokenFile is { } name)
            path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(clusterPath))!, name);
        if (path is null) return null;
        try { return Flotilla.Transport.Grpc.SecretFile.ReadText(path); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new CliException($"admin token: {e.Message}", ExitCodes.BadInput, e);
        }
    }

    private static TimeSpan Timeout(ParseResult parse) => KvCommand.ParseTimeout(parse.GetValue(TimeoutOption)!);

    private static ShardCtlResult Require(ShardCtlResult result, string what) => result.Status switch
    {
        CtlStatus.Ok => result,
        CtlStatus.Unknown => throw new CliException($"could not {what}: no controller leader answered ({result.Error})", ExitCodes.Unavailable),
        var other => throw new CliException($"could not {what}: {other}", ExitCodes.Failure),
    };

    /// <summary>Prints the outcome of a change; controller refusals are bad input (exit 4), no leader is exit 3.</summary>
    private static int Report(ParseResult parse, ShardCtlResult result, string done, int[]? gids = null, int? shard = null)
    {
        if (result.Refused is { } refused)
            throw new CliException(refused == StatusCode.Unauthenticated
                ? "refused: changing the store needs the admin token (give --admin-token-file, or a cluster.json that names it)"
                : "refused: wrong admin token (--admin-token-file)", ExitCodes.Failure);
        var named = gids is null ? "" : string.Join(",", gids);
        var message = result.Status switch
        {
            CtlStatus.Ok => null,
            CtlStatus.NoSuchGroup => $"unknown group {named}: not in the current configuration",
            CtlStatus.NoSuchShard => $"shard {shard} is out of range",
            CtlStatus.GroupExists => result.MayHaveApplied ? "the group exists now (an earlier attempt of this join may have applied)" : "the group has already joined",
            CtlStatus.Invalid => "the controller refused the request as invalid",
            CtlStatus.LastGroup => $"group(s) {named} cannot leave: a store keeps at least one group (its shards' data would have nowhere to go)",
            CtlStatus.Unknown => $"no controller leader answered ({result.Error}); the change may or may not have applied: check 'flotilla shard status'",
            var other => other.ToString(),
        };
        if (message is not null) throw new CliException(message, result.Status == CtlStatus.Unknown ? ExitCodes.Unavailable : ExitCodes.BadInput);
        parse.InvocationConfiguration.Output.WriteLine($"ok: {done} (configuration {result.Config!.Num})");
        return ExitCodes.Ok;
    }
}
