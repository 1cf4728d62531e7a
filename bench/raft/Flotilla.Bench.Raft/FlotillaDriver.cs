using System.Net;
using System.Net.Sockets;
using System.Text;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Transport.Grpc;

namespace Flotilla.Bench.Raft;

/// <summary>
/// The Flotilla half: starts 3 node processes (<see cref="FlotillaNode"/>) on loopback, waits for a leader, measures the
/// leader→follower gRPC round trip, then asks the leader to run each closed-loop load itself (see <see cref="BenchHandler"/>).
/// </summary>
public static class FlotillaDriver
{
    public static async Task<List<LatencyStats>> RunAsync(BenchSettings settings, string workDirectory)
    {
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var peerPorts = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var tcp = settings.Protocol == "tcp";
        // The driver always talks gRPC to the nodes' Kestrel ports; the nodes talk to each other over the chosen protocol.
        var members = Enumerable.Range(1, 3).ToDictionary(i => new NodeId(i), i => new Uri($"http://127.0.0.1:{ports[i - 1]}"));
        var peerAddresses = Enumerable.Range(1, 3).ToDictionary(i => i, i => tcp ? $"tcp://127.0.0.1:{peerPorts[i - 1]}" : members[new NodeId(i)].ToString());
        var memberList = string.Join(',', peerAddresses.Select(m => $"{m.Key}={m.Value}"));
        var nodes = new List<NodeProcess>();
        var results = new List<LatencyStats>();
        var client = new GrpcTransport(new NodeId(100), new PeerDirectory(members), new GrpcTransportOptions { CallDeadlineMax = TimeSpan.FromMinutes(5) });
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                var data = Path.Combine(workDirectory, $"flotilla-n{i}");
                Directory.CreateDirectory(data);
                string[] peerListen = tcp ? ["--peer-listen", $"127.0.0.1:{peerPorts[i - 1]}"] : [];
                nodes.Add(NodeProcess.Start(["flotilla-node", "--id", i.ToString(), "--listen", $"127.0.0.1:{ports[i - 1]}",
                    .. peerListen, "--members", memberList, "--data", data], Path.Combine(workDirectory, $"flotilla-n{i}.log")));
            }
            foreach (var node in nodes) await node.WaitReadyAsync(TimeSpan.FromSeconds(60));
            var leader = await WaitForLeaderAsync(client, members.Keys, TimeSpan.FromSeconds(60));
            Console.Error.WriteLine($"== flotilla: 3 node processes, peers over {settings.Protocol} (pids {string.Join(' ', nodes.Select(n => n.Pid))}), leader n{leader.Value}");
            var follower = members.Keys.First(k => k != leader);
            results.Add(LatencyStats.FromLine(await CallAsync(client, leader, "bench/rtt", $"{follower.Value}\t{settings.RoundTrips}", TimeSpan.FromMinutes(2))));
            if (settings.Prime > TimeSpan.Zero)
            {
                Console.Error.WriteLine($"== flotilla: priming, 16 proposers, {settings.Prime.TotalSeconds} s (not measured)");
                await CallAsync(client, leader, "bench/run", $"16\t0\t{(int)settings.Prime.TotalMilliseconds}\t{settings.CommandBytes}",
                    settings.Prime + TimeSpan.FromSeconds(60));
            }
            foreach (var proposers in settings.Proposers)
            {
                Console.Error.WriteLine($"== flotilla: {proposers} proposer(s), {settings.Window.TotalSeconds} s");
                var load = CallAsync(client, leader, "bench/run",
                    $"{proposers}\t{(int)settings.Warmup.TotalMilliseconds}\t{(int)settings.Window.TotalMilliseconds}\t{settings.CommandBytes}",
                    settings.Warmup + settings.Window + TimeSpan.FromSeconds(60));
                results.Add(await WindowCpu.MeasureAsync(nodes.Select(n => n.Pid).ToArray(), settings.Warmup, settings.Window,
                    load.ContinueWith(t => LatencyStats.FromLine(t.Result), TaskScheduler.Default)));
            }
            return results;
        }
        finally
        {
            await client.DisposeAsync();
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    private static async Task<NodeId> WaitForLeaderAsync(GrpcTransport client, IEnumerable<NodeId> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var id in ids)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                var reply = await client.CallAsync(id, "bench/role", ReadOnlyMemory<byte>.Empty, cts.Token);
                if (reply.IsOk && Encoding.UTF8.GetString(reply.Payload.Span) == "1") return id;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no Flotilla leader within {timeout}");
    }

    private static async Task<string> CallAsync(GrpcTransport client, NodeId target, string method, string request, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var reply = await client.CallAsync(target, method, Encoding.UTF8.GetBytes(request), cts.Token);
        if (!reply.IsOk) throw new InvalidOperationException($"{method} on n{target.Value}: {reply}");
        return Encoding.UTF8.GetString(reply.Payload.Span);
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
