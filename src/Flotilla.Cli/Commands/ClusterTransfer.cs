using System.CommandLine;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Cluster;
using Flotilla.Server.Protos;

namespace Flotilla.Cli.Commands;

/// <summary>
/// <c>flotilla cluster transfer ID --cluster FILE</c>: finds the leader through every member's Admin status, and asks
/// it to hand Raft leadership to member ID (Admin.TransferLeadership, admin token required). Exit 0 once ID leads, or
/// when it already did; 2 for an ID that is not a member; 3 when no member answered or none leads; 1 when the leader
/// answered but the transfer did not happen (the line says why).
/// </summary>
public static class ClusterTransfer
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(3);

    public static Command Create(Option<string> clusterOption, Option<string?> tokenOption)
    {
        var id = new Argument<int>("id") { Description = "The member that should lead." };
        var timeout = new Option<int>("--timeout-seconds") { Description = "How long the leader has to hand over.", DefaultValueFactory = _ => 10 };
        var command = new Command("transfer", "Hand Raft leadership to member ID: the leader catches it up, then it takes over at once.")
        {
            id, clusterOption, tokenOption, timeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            var target = parse.GetValue(id);
            if (parse.GetValue(timeout) is var seconds && seconds <= 0) throw new CliException("--timeout-seconds must be positive", ExitCodes.Usage);
            var cluster = parse.GetValue(clusterOption)!;
            var (endpoints, token) = AdminTargets.Resolve(cluster, parse.GetValue(tokenOption));
            var error = parse.InvocationConfiguration.Error;

            var answered = new List<(Uri Endpoint, StatusReply Status)>();
            foreach (var endpoint in endpoints)
            {
                using var admin = new AdminClient(endpoint, token);
                if (await admin.TryStatusAsync(StatusTimeout, ct) is { } status) answered.Add((endpoint, status));
                else if (AdminTargets.Explain(admin.LastError) is { } why) error.WriteLine($"flotilla: {endpoint}: {why}");
            }
            if (answered.Count == 0)
                throw new CliException($"no member answered (tried {string.Join(", ", endpoints.Select(e => e.Authority))})", ExitCodes.Unavailable);
            var members = MemberIds(cluster, answered);
            if (!members.Contains(target))
                throw new CliException($"n{target} is not a member of the cluster (members: {string.Join(", ", members.Order().Select(m => $"n{m}"))})", ExitCodes.Usage);
            var leader = answered.Where(a => a.Status.Role == "Leader").OrderByDescending(a => a.Status.Term).Select(a => (a.Endpoint, a.Status)).FirstOrDefault();
            if (leader.Status is null) throw new CliException("no member leads right now (an election is under way?); try again", ExitCodes.Unavailable);
            if (leader.Status.Id == target)
            {
                parse.InvocationConfiguration.Output.WriteLine($"n{target} already leads (term {leader.Status.Term})");
                return ExitCodes.Ok;
            }

            using var client = new AdminClient(leader.Endpoint, token);
            var reply = await client.TryTransferLeadershipAsync(target, TimeSpan.FromSeconds(seconds), ct);
            if (reply is null)
            {
                var why = AdminTargets.Explain(client.LastError) ?? $"{client.LastError}: {client.LastErrorDetail}";
                throw new CliException($"leader n{leader.Status.Id} at {leader.Endpoint.Authority}: {why}",
                    client.LastError is Grpc.Core.StatusCode.Unauthenticated or Grpc.Core.StatusCode.PermissionDenied ? ExitCodes.Failure : ExitCodes.Unavailable);
            }
            if (!reply.Ok) throw new CliException($"transfer to n{target} failed: {reply.Message}", ExitCodes.Failure);
            parse.InvocationConfiguration.Output.WriteLine(reply.AlreadyLeader
                ? $"n{target} already leads (term {reply.Term})"
                : $"leadership moved from n{leader.Status.Id} to n{target} (term {reply.Term})");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The members the cluster file lists, else (a list of endpoints) the ids that answered.</summary>
    private static HashSet<int> MemberIds(string cluster, List<(Uri Endpoint, StatusReply Status)> answered)
    {
        var ids = answered.Select(a => a.Status.Id).ToHashSet();
        if (File.Exists(cluster.Trim()))
        {
            try { ids.UnionWith(ClusterFile.Load(cluster.Trim()).Members.Select(m => m.Id)); }
            catch (ClusterFileException) { }
        }
        return ids;
    }
}
