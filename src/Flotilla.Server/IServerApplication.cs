using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server;

/// <summary>
/// The replicated application a <see cref="FlotillaServer"/> runs: the replicated KV is one; the sharded store's
/// groups will be others.
/// </summary>
public interface IServerApplication
{
    /// <summary>Starts the application's replica (its Raft group and state machine) on the node and returns it.
    /// Called on the node's scheduler, before the host listens.</summary>
    Task<ReplicatedStateMachine> StartAsync(NodeContext context, RsmOptions options, CancellationToken cancellationToken);

    /// <summary>Registers the application's public API (gRPC services) on the host, before it listens.</summary>
    void MapApi(RealNodeHost host);

    /// <summary>Stops the application (on the node's scheduler).</summary>
    Task StopAsync();

    /// <summary>The storage condition of Raft groups the application runs besides the one <see cref="StartAsync"/>
    /// returned (the sharded store's data groups): the first "disk full" among them, or null. On the scheduler.</summary>
    string? OtherGroupsStorageProblem => null;

    /// <summary>The first storage failure for good among those other groups, or null. On the scheduler.</summary>
    Exception? OtherGroupsStorageFailure => null;
}
