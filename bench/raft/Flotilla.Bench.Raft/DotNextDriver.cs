using System.Globalization;

namespace Flotilla.Bench.Raft;

/// <summary>
/// The DotNext half: 3 <see cref="DotNextNode"/> processes (DotNext.Net.Cluster 6.12.0, TCP transport, persistent
/// WriteAheadLog) on loopback; finds the leader over the control protocol and has it run each closed-loop load, exactly
/// as the Flotilla half does.
/// </summary>
public static class DotNextDriver
{
    public static async Task<List<LatencyStats>> RunAsync(BenchSettings settings, string workDirectory)
    {
        var ports = Enumerable.Range(0, 3).Select(_ => FlotillaDriver.FreePort()).ToArray();
        var members = string.Join(',', ports);
        var nodes = new List<NodeProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var data = Path.Combine(workDirectory, $"dotnext-n{i + 1}");
                Directory.CreateDirectory(data);
                nodes.Add(NodeProcess.Start(["dotnext-node", "--port", ports[i].ToString(CultureInfo.InvariantCulture), "--members", members, "--data", data],
                    Path.Combine(workDirectory, $"dotnext-n{i + 1}.log")));
            }
            foreach (var node in nodes) await node.WaitReadyAsync(TimeSpan.FromSeconds(60));
            var leader = await WaitForLeaderAsync(nodes, TimeSpan.FromSeconds(60));
            Console.Error.WriteLine($"== dotnext: 3 node processes (pids {string.Join(' ', nodes.Select(n => n.Pid))}), leader pid {leader.Pid}");
            var results = new List<LatencyStats>();
            if (settings.Prime > TimeSpan.Zero)
            {
                Console.Error.WriteLine($"== dotnext: priming, 16 proposers, {settings.Prime.TotalSeconds} s (not measured)");
                await leader.AskAsync(FormattableString.Invariant($"run 16 0 {(int)settings.Prime.TotalMilliseconds} {settings.CommandBytes}"),
                    settings.Prime + TimeSpan.FromSeconds(60));
            }
            foreach (var proposers in settings.Proposers)
            {
                Console.Error.WriteLine($"== dotnext: {proposers} proposer(s), {settings.Window.TotalSeconds} s");
                var load = leader.AskAsync(FormattableString.Invariant(
                    $"run {proposers} {(int)settings.Warmup.TotalMilliseconds} {(int)settings.Window.TotalMilliseconds} {settings.CommandBytes}"),
                    settings.Warmup + settings.Window + TimeSpan.FromSeconds(60));
                results.Add(await WindowCpu.MeasureAsync(nodes.Select(n => n.Pid).ToArray(), settings.Warmup, settings.Window,
                    load.ContinueWith(t => LatencyStats.FromLine(t.Result), TaskScheduler.Default)));
            }
            return results;
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    private static async Task<NodeProcess> WaitForLeaderAsync(List<NodeProcess> nodes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var node in nodes)
            {
                if (await node.AskAsync("role", TimeSpan.FromSeconds(5)) == "1") return node;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no DotNext leader within {timeout}");
    }
}
