using System.CommandLine;
using System.Text.Json;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;

namespace Flotilla.Cli.Commands;

/// <summary>
/// <c>flotilla cluster add|remove|replace --cluster FILE</c>: membership changes of a local cluster through Raft
/// (<see cref="MemberChanges"/>). Exit 0 once the change is applied and cluster.json records it; 2 for a member the
/// file does not list; 3 when no leader could be found; 4 for a bad cluster file; 1 when the change was refused or
/// did not complete (the line says why; a new member that did not catch up is removed again).
/// </summary>
public static class ClusterMembership
{
    public static IEnumerable<Command> Create(Option<string> clusterOption)
    {
        yield return Add(clusterOption);
        yield return Remove(clusterOption);
        yield return Replace(clusterOption);
    }

    private static readonly Option<bool> Json = new("--json") { Description = "Print the result as one JSON object." };

    private static readonly Option<int> CatchUp = new("--catch-up-timeout-seconds")
    {
        Description = "How long the new member has to catch up with the leader's log before it is removed again.",
        DefaultValueFactory = _ => 60,
    };

    private static readonly Option<int> LockWait = new("--lock-timeout-seconds")
    {
        Description = "How long to wait for another cluster command on the same cluster.json to finish (it holds FILE.lock).",
        DefaultValueFactory = _ => 30,
    };

    private static Command Add(Option<string> clusterOption)
    {
        var command = new Command("add", "Start a new member (a fresh id and data directory), add it as a learner, and promote it to voter once it has caught up.")
        {
            clusterOption, Json, CatchUp, LockWait,
        };
        command.SetAction((parse, ct) => RunAsync(parse, options => MemberChanges.AddAsync(parse.GetValue(clusterOption)!, options, ct)));
        return command;
    }

    private static Command Remove(Option<string> clusterOption)
    {
        var id = new Argument<int>("id") { Description = "The member to remove." };
        var command = new Command("remove", "Remove member ID from the group through Raft, then stop its process.") { id, clusterOption, Json, LockWait };
        command.SetAction((parse, ct) => RunAsync(parse, options => MemberChanges.RemoveAsync(parse.GetValue(clusterOption)!, parse.GetValue(id), options, ct)));
        return command;
    }

    private static Command Replace(Option<string> clusterOption)
    {
        var id = new Argument<int>("id") { Description = "The member to replace (e.g. one whose disk is gone)." };
        var command = new Command("replace", "Start a new member under a new id, catch it up as a learner, then in one joint change make it a voter and remove ID; stop ID if it runs.")
        {
            id, clusterOption, Json, CatchUp, LockWait,
        };
        command.SetAction((parse, ct) => RunAsync(parse, options => MemberChanges.ReplaceAsync(parse.GetValue(clusterOption)!, parse.GetValue(id), options, ct)));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<MemberChangeOptions, Task<MemberChangeReport>> change)
    {
        var seconds = parse.GetResult(CatchUp) is null ? 60 : parse.GetValue(CatchUp);
        if (seconds <= 0) throw new CliException("--catch-up-timeout-seconds must be positive", ExitCodes.Usage);
        var lockWait = parse.GetResult(LockWait) is null ? 30 : parse.GetValue(LockWait);
        if (lockWait < 0) throw new CliException("--lock-timeout-seconds must not be negative", ExitCodes.Usage);
        MemberChangeReport report;
        try
        {
            report = await change(new MemberChangeOptions { CatchUpTimeout = TimeSpan.FromSeconds(seconds), LockTimeout = TimeSpan.FromSeconds(lockWait) });
        }
        catch (MemberChangeException e)
        {
            throw new CliException(e.Message, e.Failure switch
            {
                MemberChangeFailure.Usage => ExitCodes.Usage,
                MemberChangeFailure.Unavailable => ExitCodes.Unavailable,
                _ => ExitCodes.Failure,
            }, e);
        }
        var output = parse.InvocationConfiguration.Output;
        if (parse.GetValue(Json))
        {
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["action"] = report.Action,
                ["added"] = report.Added?.Id,
                ["removed"] = report.Removed == 0 ? null : report.Removed,
                ["address"] = report.Added?.Address,
                ["pid"] = report.Added?.Pid,
                ["data"] = report.Added?.DataDirectory,
                ["membership"] = report.Membership,
            }));
            return ExitCodes.Ok;
        }
        output.WriteLine(report.Action switch
        {
            "add" => $"added n{report.Added!.Id}  {report.Added.Address}  pid {report.Added.Pid}  data {report.Added.DataDirectory}; membership {report.Membership}",
            "replace" => $"replaced n{report.Removed} by n{report.Added!.Id}  {report.Added.Address}  pid {report.Added.Pid}; membership {report.Membership}",
            _ => $"removed n{report.Removed} and stopped it; membership {report.Membership}",
        });
        return ExitCodes.Ok;
    }
}
