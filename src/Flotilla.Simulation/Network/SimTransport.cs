using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Simulation.Network;

/// <summary>One node incarnation's view of the simulated network.</summary>
internal sealed class SimTransport(SimNetwork network, SimNode node, SimSynchronizationContext context) : ITransport
{
    public NodeId Self => node.Id;

    public Task<RpcReply> CallAsync(NodeId target, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        network.Call(node, context, target, method, request, cancellationToken);

    public void Send(NodeId target, string method, ReadOnlyMemory<byte> message) =>
        network.Send(node, target, method, message);
}
