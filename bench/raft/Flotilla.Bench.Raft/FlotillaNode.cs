using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;

namespace Flotilla.Bench.Raft;

/// <summary>
/// <c>Flotilla.Bench.Raft flotilla-node --id N --listen HOST:PORT [--peer-listen HOST:PORT] --members 1=URL,2=URL,3=URL --data DIR</c>:
/// one real Flotilla node process (RealNodeHost: Kestrel, peers over framed TCP with --peer-listen (members tcp://...) or gRPC; ReplicatedStateMachine over RaftNode with its
/// WAL, fsync on) serving <see cref="BenchHandler"/>. Runs until its stdin closes (the driver holds it: if the driver
/// dies, the node exits instead of being orphaned) or SIGTERM.
/// </summary>
public static class FlotillaNode
{
    public static async Task<int> RunAsync(Args args)
    {
        var id = new NodeId(args.Int("--id"));
        var members = ParseMembers(args.Get("--members"));
        var peers = new PeerDirectory(members.Where(m => m.Key != id));
        var tcp = args.Get("--peer-listen", "") is { Length: > 0 } peerListen ? RealNodeHost.ParseEndPoint(peerListen) : null;
        await using var host = new RealNodeHost(new RealNodeHostOptions
        {
            Id = id,
            Listen = RealNodeHost.ParseEndPoint(args.Get("--listen")),
            Peers = peers,
            DataDirectory = args.Get("--data"),
            Protocol = tcp is null ? PeerProtocol.Grpc : PeerProtocol.Tcp,
            TcpListen = tcp,
            // The driver reaches each node's bench/* handlers through the gRPC peer service on the Kestrel port, which a
            // framed-TCP node does not serve unless asked (the peers themselves still talk framed TCP).
            ServeGrpcPeers = true,
        });
        var options = new RsmOptions
        {
            Raft = new RaftNodeOptions { GroupId = "bench", Voters = members.Keys.Order().ToList() },
        };
        var rsm = await host.Context.InvokeAsync(async () =>
        {
            var replica = await ReplicatedStateMachine.StartAsync(host.Context, options, new CounterService());
            host.Context.Router.Map(BenchHandler.Service, new BenchHandler(host.Context, replica));
            return replica;
        });
        await host.StartAsync();
        Console.WriteLine($"ready n{id.Value} {host.Address}");

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        _ = Task.Run(async () => { await Console.In.ReadToEndAsync(); stop.TrySetResult(); });
        await stop.Task;
        await host.Context.InvokeAsync(async () => { await rsm.StopAsync(); return true; });
        return 0;
    }

    public static Dictionary<NodeId, Uri> ParseMembers(string text) =>
        text.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => new NodeId(int.Parse(p[0])), p => new Uri(p[1]));
}
