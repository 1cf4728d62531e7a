using Flotilla.Runtime;
using Flotilla.ShardKv.Group;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Testing;

// Chunked migration: shards many pages large moving under faults (docs/shardkv-design.md, "Chunked pulls").
public static partial class ShardKvScenarios
{
    private const int LargePageBytes = 1024, LargeKeys = 400, LargeValueBytes = 300;

    /// <summary>
    /// Every shard holds ~12 KB (40 keys of 300 B) and is pulled in 1 KiB pages, so each move takes ~13 chunk entries.
    /// On an unreliable network (lost and delayed pages and replies, duplicated proposals by retries), while clients
    /// write contended keys: group 2 joins and the new owner's leader crashes mid-transfer, then the old owner's leader,
    /// then the new owner's leader is cut off; group 1 leaves (everything moves the other way) and the whole new owner
    /// crashes mid-transfer, restarting from snapshots taken part-way through a shard's pages; group 1 joins again.
    /// At the end: the history is linearizable, every acknowledged write is there, every filled key holds its value.
    /// </summary>
    public static void LargeShardMove(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 2, snapshotThresholdBytes: 8192, migrationPageBytes: LargePageBytes);
        await c.JoinAsync(1);
        var (node, client, _) = c.AddClient();
        var values = new Dictionary<string, string>();
        for (var i = 0; i < LargeKeys; i++)
        {
            var key = $"f{i}";
            var value = $"{key}:" + new string((char)('a' + i % 26), LargeValueBytes);
            var put = await node.InvokeAsync(() => client.PutAsync(key, value, 0));
            Check(put.IsOk, $"put {key}: {put.Status}");
            c.Acknowledged(key, 0);
            values[key] = value;
        }
        var work = new Workload(c, 6, 8);
        sim.Network.Reliable = false;
        var caught = 0;

        var num = (await c.JoinAsync(2)).Num;
        caught += await FaultMidPullAsync(c, 2, num, async leader => { sim.Node(leader).Crash(); await c.SleepMs(300); sim.Node(leader).Start(); });
        caught += await FaultMidPullAsync(c, 2, num, async _ =>
        {
            if (c.ReplicasOf(1).FirstOrDefault(r => r.Rsm.IsLeader) is not { } old) return;
            var id = old.Rsm.Id;
            sim.Node(id).Crash();
            await c.SleepMs(300);
            sim.Node(id).Start();
        });
        caught += await FaultMidPullAsync(c, 2, num, async leader => { sim.Network.Disconnect(new NodeId(leader)); await c.SleepMs(600); sim.Network.Connect(new NodeId(leader)); });
        await c.WaitSettledAsync();

        num = (await c.LeaveAsync(1)).Num;
        var restored = false;
        caught += await FaultMidPullAsync(c, 2, num, async _ =>
        {
            c.CrashGroup(2);
            await c.SleepMs(300);
            c.StartGroup(2);
            var deadline = sim.Now + TimeSpan.FromSeconds(10);
            while (c.ReplicasOf(2).Count() < ShardKvCluster.Replicas && sim.Now < deadline) await c.SleepMs(20);
            restored = c.ReplicasOf(2).Any(r => r.State.RestoredMidPull);
        }, minPages: 5);
        await c.WaitSettledAsync();

        num = (await c.JoinAsync(1)).Num;
        caught += await FaultMidPullAsync(c, 1, num, async leader => { sim.Node(leader).Crash(); await c.SleepMs(300); sim.Node(leader).Start(); });
        await c.SleepMs(500);
        await work.StopAsync();
        sim.Network.Reliable = true;
        await c.WaitSettledAsync();

        var reader = c.AddClient();
        foreach (var (key, value) in values)
        {
            var read = await reader.Node.InvokeAsync(() => reader.Client.GetAsync(key));
            Check(read.IsOk && read.Value == value, $"{key} read {read.Status} '{read.Value?[..Math.Min(12, read.Value.Length)]}' after the moves");
        }
        await c.CheckFinalAsync();
        Check(caught >= 4, $"only {caught} of 5 faults struck while a shard was part-way through its pages: the scenario did not exercise chunked pulls");
        Check(restored, "no replica of group 2 restarted from a snapshot taken part-way through a shard's pages");
        var pages = Enumerable.Range(1, 2).SelectMany(c.ReplicasOf).Max(r => r.State.LargestInstallPages);
        Check(pages >= 5, $"the largest install took {pages} pages: shards did not move in pages");
    }, limitSeconds: 900);

    /// <summary>Waits until a running replica of <paramref name="gid"/> leads while some shard of it has applied at least
    /// <paramref name="minPages"/> pages but not its last, then runs <paramref name="fault"/> with that replica's node.
    /// Returns 1 if it struck mid-pull, 0 if the pulls of configuration <paramref name="num"/> finished first (the scenario requires most faults to strike).</summary>
    private static async Task<int> FaultMidPullAsync(ShardKvCluster c, int gid, int num, Func<int, Task> fault, int minPages = 2)
    {
        var deadline = c.Sim.Now + TimeSpan.FromSeconds(20);
        while (c.Sim.Now < deadline)
        {
            var leader = c.ReplicasOf(gid).FirstOrDefault(r => r.Rsm.IsLeader &&
                Enumerable.Range(0, ShardKvCluster.ShardCount).Any(s => r.State.StateOf(s) == ShardState.Pulling && r.State.PagesOf(s) >= minPages));
            if (leader is not null)
            {
                c.Sim.Log($"test: fault at group {gid}'s leader {leader.Rsm.Id} mid-pull");
                await fault(leader.Rsm.Id.Value);
                return 1;
            }
            if (c.ReplicasOf(gid).Any(r => r.Rsm.IsLeader && r.State.Current.Num >= num && r.State.Settled)) return 0;
            await c.SleepMs(2);
        }
        return 0;
    }
}
