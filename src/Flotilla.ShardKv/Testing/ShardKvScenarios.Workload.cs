using Flotilla.Kv.Client;
using Flotilla.Kv.Replicated.Testing;
using Flotilla.ShardKv.Controller;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Testing;

// The client workload and the reconfiguration driver the scenarios share.
public static partial class ShardKvScenarios
{
    /// <summary>Clients running get-then-conditional-put on a few shared keys until stopped.</summary>
    private sealed class Workload
    {
        private readonly List<Task<int>> _loops = [];
        private bool _stop;

        public Workload(ShardKvCluster c, int clients, int keys, string tag = "w")
        {
            for (var i = 0; i < clients; i++)
            {
                var (node, client, _) = c.AddClient();
                _loops.Add(node.InvokeAsync(() => ClientLoopAsync(c, client, node.Context.Random, node.Context.Time, keys, $"{tag}{i}")));
            }
        }

        /// <summary>Stops the clients; returns how many operations got a definite answer (at least one per client,
        /// or the scenario exercised nothing).</summary>
        public async Task<int> StopAsync()
        {
            _stop = true;
            var answered = 0;
            foreach (var loop in _loops) answered += await loop;
            if (answered < _loops.Count) throw new ShardScenarioException($"{_loops.Count} clients completed only {answered} operations");
            return answered;
        }

        /// <summary>Gets a key, then (two times in three) writes it at the version read. Keys are shared by all
        /// clients, so puts really contend; values are unique, so the checker can tell every write apart.</summary>
        private async Task<int> ClientLoopAsync(ShardKvCluster c, RecordingClient client, Random random, TimeProvider time, int keys, string tag)
        {
            var answered = 0;
            var n = 0;
            while (!_stop)
            {
                // A short think time keeps the history small enough to check quickly without losing contention.
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(1, 8)), time);
                var key = $"k{random.Next(keys)}";
                var get = await client.GetAsync(key);
                if (get.Status == KvStatus.Unavailable) continue;
                answered++;
                if (random.Next(3) == 0) continue;
                var version = get.IsOk ? get.Version : 0;
                var put = await client.PutAsync(key, $"{tag}-{n++}", version);
                if (put.Status == KvStatus.Ok) c.Acknowledged(key, version);
                if (put.Status != KvStatus.Unavailable) answered++;
            }
            return answered;
        }
    }

    /// <summary>Random joins and leaves among groups 1..G (never leaving none), <paramref name="pauseMs"/> apart,
    /// with <paramref name="between"/> after each (faults). Returns the groups joined at the end.</summary>
    private static async Task<SortedSet<int>> ReconfigureAsync(ShardKvCluster c, SortedSet<int> joined, int steps, int pauseMs, Func<Task>? between = null)
    {
        var random = c.Sim.Random;
        for (var step = 0; step < steps; step++)
        {
            var absent = Enumerable.Range(1, c.GroupCount).Where(g => !joined.Contains(g)).ToList();
            if (absent.Count > 0 && (joined.Count == 1 || random.Next(2) == 0))
            {
                var gid = absent[random.Next(absent.Count)];
                await c.JoinAsync(gid);
                joined.Add(gid);
            }
            else
            {
                var gid = joined.ElementAt(random.Next(joined.Count));
                await c.LeaveAsync(gid);
                joined.Remove(gid);
            }
            await c.SleepMs(pauseMs + random.Next(pauseMs));
            if (between is not null) await between();
        }
        return joined;
    }

    private static void Check(bool condition, string failure)
    {
        if (!condition) throw new ShardScenarioException(failure);
    }

    private static void Run(Simulator sim, Func<Task> body, int limitSeconds = 600) => sim.RunTest(body, TimeSpan.FromSeconds(limitSeconds));

    /// <summary>A key of the given shard (searching names in order, so a scenario is the same every run).</summary>
    private static string KeyOf(int shard) =>
        Enumerable.Range(0, 10_000).Select(i => $"k{i}").First(k => ShardMap.ShardOf(k, ShardKvCluster.ShardCount) == shard);

    /// <summary>One key per shard: k-names the workload's clients do not use, so single-writer checks hold.</summary>
    private static string[] OneKeyPerShard(string prefix) =>
        Enumerable.Range(0, ShardKvCluster.ShardCount)
            .Select(s => Enumerable.Range(0, 10_000).Select(i => $"{prefix}{i}").First(k => ShardMap.ShardOf(k, ShardKvCluster.ShardCount) == s)).ToArray();

    private static int OwnerOf(ShardConfig config, string key) => config.Shards[ShardMap.ShardOf(key, config.Shards.Count)];
}
