using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Simulation.Tests;

/// <summary>A tiny service for network tests: "echo/call" returns the request; "echo/msg" records one-way messages.</summary>
internal sealed class EchoService : IRpcHandler
{
    public List<(NodeId From, byte[] Payload, TimeSpan At)> Messages { get; } = [];
    public int Calls { get; private set; }
    private readonly TimeProvider _time;

    public EchoService(NodeContext context)
    {
        _time = context.Time;
        context.Router.Map("echo", this);
    }

    public ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        Calls++;
        return ValueTask.FromResult(request);
    }

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message) =>
        Messages.Add((from, message.ToArray(), _time.GetElapsedTime(0)));

    public static Simulator Cluster(ulong seed, int nodes, SimulationOptions? options = null)
    {
        var sim = new Simulator(seed, options);
        for (var i = 1; i <= nodes; i++) sim.AddNode(new NodeId(i), n => n.Service = new EchoService(n.Context));
        sim.RunFor(TimeSpan.FromMilliseconds(1));
        return sim;
    }
}
