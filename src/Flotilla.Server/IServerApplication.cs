using Flotilla.Rsm;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server;

/// <summary>
/// The replicated application a <see cref="FlotillaServer"/> runs: its deterministic state machine, and its public API.
/// The replicated KV is one; the sharded store's groups will be others.
/// </summary>
public interface IServerApplication
{
    /// <summary>A fresh, empty state machine (restored from a snapshot by the RSM if one exists).</summary>
    IReplicatedService CreateStateMachine();

    /// <summary>Registers the application's public API: gRPC services on <paramref name="host"/> and/or handlers on its
    /// router, given the started replica. Called on the node's scheduler, before the host starts listening.</summary>
    void MapApi(RealNodeHost host, ReplicatedStateMachine replica);
}
