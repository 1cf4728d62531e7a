using Flotilla.Server.Protos;
using Grpc.Core;

namespace Flotilla.Server;

/// <summary>The public <c>flotilla.admin.v1.Admin</c> service: status for <c>flotilla cluster status</c>, and clean shutdown.
/// Every call passes <see cref="AdminGate"/> first.</summary>
internal sealed class AdminGrpcService(FlotillaServer server, AdminGate gate) : Admin.AdminBase
{
    public override async Task<StatusReply> Status(StatusRequest request, ServerCallContext context)
    {
        gate.Check(context);
        var s = await server.SnapshotAsync();
        return new StatusReply
        {
            Id = s.Id,
            Address = server.Address.ToString(),
            Pid = Environment.ProcessId,
            Role = s.Role,
            Term = s.Term,
            Leader = s.Leader,
            CommitIndex = s.CommitIndex,
            AppliedIndex = s.AppliedIndex,
            LastIndex = s.LastIndex,
            PersistedBytes = s.PersistedBytes,
            SnapshotIndex = s.SnapshotIndex,
            SnapshotsTaken = s.SnapshotsTaken,
            Version = typeof(FlotillaServer).Assembly.GetName().Version?.ToString() ?? "",
            UptimeMs = (long)server.Uptime.TotalMilliseconds,
            LogEntries = s.LastIndex - s.SnapshotIndex,
            LastSnapshotBytes = s.LastSnapshotBytes,
            StorageError = s.DiskFull ?? "",
            MemberRole = s.MemberRole,
            Joint = s.Joint,
            Membership = s.Membership,
        };
    }

    /// <summary>Runs the transfer on the node's scheduler; bounded by the caller's deadline as well as by Raft's own
    /// two election timeouts. Refusals are answers (ok = false with the reason), not gRPC errors.</summary>
    public override async Task<TransferLeadershipReply> TransferLeadership(TransferLeadershipRequest request, ServerCallContext context)
    {
        gate.Check(context);
        if (request.Target <= 0) throw new RpcException(new Grpc.Core.Status(StatusCode.InvalidArgument, $"{request.Target} is not a member id"));
        var result = await server.TransferLeadershipAsync(new Flotilla.Runtime.NodeId(request.Target), context.CancellationToken);
        var after = await server.SnapshotAsync();
        return new TransferLeadershipReply
        {
            Ok = result.Ok, Message = result.Message, AlreadyLeader = result.AlreadyLeader, Leader = after.Leader, Term = after.Term,
        };
    }

    // Membership changes: refusals are answers (ok = false, the status and one-line reason), not gRPC errors.

    public override async Task<MembershipReply> AddLearner(AddLearnerRequest request, ServerCallContext context)
    {
        gate.Check(context);
        var m = request.Member ?? throw new RpcException(new Grpc.Core.Status(StatusCode.InvalidArgument, "no member given"));
        var endpoint = new Membership.MemberEndpoint
        {
            Id = m.Id, Client = m.Client, Peer = NullIfEmpty(m.Peer), Admin = NullIfEmpty(m.Admin), Console = NullIfEmpty(m.Console),
        };
        return Reply(await server.AddLearnerAsync(endpoint, context.CancellationToken));
    }

    public override async Task<MembershipReply> PromoteMember(PromoteMemberRequest request, ServerCallContext context)
    {
        gate.Check(context);
        return Reply(await server.PromoteAsync(request.Id, MaxLag(request.MaxLag), context.CancellationToken));
    }

    public override async Task<MembershipReply> RemoveMember(RemoveMemberRequest request, ServerCallContext context)
    {
        gate.Check(context);
        return Reply(await server.RemoveAsync(request.Id, context.CancellationToken));
    }

    public override async Task<MembershipReply> ChangeMembership(ChangeMembershipRequest request, ServerCallContext context)
    {
        gate.Check(context);
        return Reply(await server.ChangeAsync(request.AddVoters.ToList(), request.Remove.ToList(), MaxLag(request.MaxLag), context.CancellationToken));
    }

    public override async Task<MemberProgressReply> MemberProgress(MemberProgressRequest request, ServerCallContext context)
    {
        gate.Check(context);
        var (leader, lastIndex, members) = await server.ProgressAsync();
        var reply = new MemberProgressReply { Leader = leader, LastIndex = lastIndex };
        reply.Members.AddRange(members.Select(p => new Protos.MemberProgress { Id = p.Peer.Value, Match = p.Match, Learner = p.IsLearner, RecentActive = p.RecentActive }));
        return reply;
    }

    private static ulong MaxLag(ulong requested) => requested == 0 ? FlotillaServer.DefaultMaxLag : requested;

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static MembershipReply Reply(MembershipResult r) => new()
    {
        Ok = r.Ok, Status = r.Status, Message = r.Message, Leader = r.Leader, Membership = r.Membership, Index = r.Index,
    };

    public override Task<ShutdownReply> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        gate.Check(context);
        // Answer first, then stop: the caller learns the request was accepted and watches the process exit.
        server.RequestShutdown();
        return Task.FromResult(new ShutdownReply());
    }
}
