using System.Diagnostics;
using System.Text;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Bench.Raft;

/// <summary>
/// The node side of the benchmark, served on the node's router as service "bench". The load runs <em>inside</em> the
/// leader process, so a sample is exactly propose → applied on the leader (no driver round trip added):
/// <c>bench/role</c> → "1" on the leader; <c>bench/run</c> "proposers\twarmupMs\twindowMs\tcommandBytes" → a
/// <see cref="LatencyStats"/> line; <c>bench/echo</c> echoes; <c>bench/rtt</c> "peer\tcount" → stats of <c>count</c>
/// sequential 100-byte echo calls from this node to <c>peer</c> over the peer transport (a call, where Raft sends one-way messages).
/// </summary>
public sealed class BenchHandler(NodeContext ctx, ReplicatedStateMachine rsm) : IRpcHandler
{
    public const string Service = "bench";
    private int _failuresReported;

    public async ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        var args = Encoding.UTF8.GetString(request.Span).Split('\t');
        switch (method)
        {
            case "bench/role":
                return Encoding.UTF8.GetBytes(rsm.IsLeader ? "1" : "0");
            case "bench/echo":
                return request.ToArray();
            case "bench/run":
                return Encoding.UTF8.GetBytes((await RunAsync(int.Parse(args[0]), int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3]), cancellationToken)).ToLine());
            case "bench/rtt":
                return Encoding.UTF8.GetBytes((await RoundTripsAsync(new NodeId(int.Parse(args[0])), int.Parse(args[1]), cancellationToken)).ToLine());
            default:
                throw new UnknownMethodException(method);
        }
    }

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message) { }

    private Task<LatencyStats> RunAsync(int proposers, int warmupMs, int windowMs, int commandBytes, CancellationToken ct)
    {
        var command = new byte[commandBytes];
        Random.Shared.NextBytes(command);
        return ClosedLoop.RunAsync("flotilla", proposers, TimeSpan.FromMilliseconds(warmupMs), TimeSpan.FromMilliseconds(windowMs),
            async _ =>
            {
                var result = await rsm.SubmitAsync(command, ct);
                if (!result.IsOk && _failuresReported++ < 5) Console.WriteLine($"submit failed: {result}");
                return result.IsOk;
            }, ct);
    }

    private async Task<LatencyStats> RoundTripsAsync(NodeId peer, int count, CancellationToken ct)
    {
        var payload = new byte[100];
        var samples = new List<long>(count);
        var failed = 0L;
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(2));
            var t0 = Stopwatch.GetTimestamp();
            var reply = await ctx.Transport.CallAsync(peer, "bench/echo", payload, deadline.Token);
            if (reply.IsOk) samples.Add(Stopwatch.GetTimestamp() - t0);
            else failed++;
        }
        return LatencyStats.From("peer-rtt", 1, samples, failed, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
