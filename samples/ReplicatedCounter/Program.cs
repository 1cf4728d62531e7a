// A counter replicated on three Raft nodes in one process, talking framed TCP on loopback and writing their logs to
// a temporary directory: the smallest complete use of Flotilla.Raft + Flotilla.Rsm (docs/library.md walks through it).
using System.Net;
using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;

const int Increments = 10;
var root = Path.Combine(Path.GetTempPath(), "flotilla-counter-" + Guid.NewGuid().ToString("N"));
var peers = new PeerDirectory();
NodeId[] ids = [new(1), new(2), new(3)];
var nodes = new List<(RealNodeHost Host, ReplicatedStateMachine Rsm, Counter Counter)>();
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
try
{
    foreach (var id in ids)
    {
        var host = new RealNodeHost(new RealNodeHostOptions
        {
            Id = id,
            Protocol = PeerProtocol.Tcp,
            Listen = new IPEndPoint(IPAddress.Loopback, 0),      // client APIs (none here)
            TcpListen = new IPEndPoint(IPAddress.Loopback, 0),   // peer traffic
            Peers = peers,
            DataDirectory = Path.Combine(root, $"node-{id.Value}"),
        });
        var counter = new Counter();
        var options = new RsmOptions { Raft = new RaftNodeOptions { GroupId = "counter", Voters = ids } };
        // Protocol code runs on the node's scheduler, never on a thread pool thread of its own.
        var rsm = await host.Context.InvokeAsync(() => ReplicatedStateMachine.StartAsync(host.Context, options, counter));
        await host.StartAsync();
        peers.Set(id, host.PeerAddress);                     // ports were 0: tell the others where this node listens
        nodes.Add((host, rsm, counter));
    }

    for (var i = 0; i < Increments; i++)
    {
        var result = await SubmitToLeaderAsync("increment"u8.ToArray(), deadline.Token);
        Console.WriteLine($"increment {i + 1}: counter = {BitConverter.ToInt64(result.Span)}");
    }

    // Every replica applies the same commands in the same order, so each one reaches the same value.
    while (true)
    {
        var values = new List<long>();
        foreach (var (host, _, counter) in nodes) values.Add(await host.Context.InvokeAsync(() => Task.FromResult(counter.Value)));
        if (values.All(v => v == Increments))
        {
            Console.WriteLine($"replicated: counter = {Increments} on all {nodes.Count} nodes");
            return 0;
        }
        await Task.Delay(20, deadline.Token);
    }
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("counter: no agreement within 30 s");
    return 1;
}
finally
{
    foreach (var (host, rsm, _) in nodes)
    {
        await host.Context.InvokeAsync(async () => { await rsm.StopAsync(); return true; });
        await host.DisposeAsync();
    }
    try { Directory.Delete(root, recursive: true); } catch (IOException) { }
}

// Submits through whichever node leads now; a refused or unknown submit is retried only when it certainly did not apply.
async Task<ReadOnlyMemory<byte>> SubmitToLeaderAsync(byte[] command, CancellationToken ct)
{
    while (true)
    {
        foreach (var (host, rsm, _) in nodes)
        {
            var result = await host.Context.InvokeAsync(() => rsm.SubmitAsync(command, ct));
            if (result.IsOk) return result.Result;
            if (!result.DefinitelyNotApplied) throw new InvalidOperationException($"outcome unknown: {result}");
        }
        await Task.Delay(50, ct); // no leader yet: an election is under way
    }
}

/// <summary>The replicated service: deterministic, and its whole state fits in a snapshot.</summary>
sealed class Counter : IReplicatedService
{
    public long Value;
    public ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command) => BitConverter.GetBytes(++Value);
    public byte[] Snapshot() => BitConverter.GetBytes(Value);
    public void Restore(ReadOnlyMemory<byte> snapshot) => Value = BitConverter.ToInt64(snapshot.Span);
}
