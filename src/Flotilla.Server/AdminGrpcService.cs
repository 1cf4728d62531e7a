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

    public override Task<ShutdownReply> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        gate.Check(context);
        // Answer first, then stop: the caller learns the request was accepted and watches the process exit.
        server.RequestShutdown();
        return Task.FromResult(new ShutdownReply());
    }
}
