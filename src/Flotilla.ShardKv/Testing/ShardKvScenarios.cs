using Flotilla.Kv.Client;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Group;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Testing;

/// <summary>
/// The sharded KV end to end in simulation (after MIT 6.5840 lab 5B, "shardkv"): the controller and replica groups on
/// simulated nodes (group 1 side by side with the controller), group drivers moving shards, routing clients on a few
/// shared keys, faults. Every store scenario checks its whole client history with the linearizability checker (per key)
/// and that every acknowledged write is readable at the end; the <c>controller-*</c> scenarios (no KV clients) check the
/// controller's configurations instead (ShardControllerScenarios.Lab.cs). xunit runs each over a few seeds,
/// <c>flotilla sim shardkv --seeds N</c> soaks them.
/// </summary>
public static partial class ShardKvScenarios
{
    /// <summary>Small, so groups snapshot often and restart from snapshots (the WAL's smallest segment is 4 KiB).</summary>
    public const long SnapshotThresholdBytes = 4096;

    public static ScenarioSuite Suite { get; } = new("shardkv", "Sharded KV: controller, replica groups moving shards, routing clients, linearizable histories (6.5840 5B).",
    [
        new Scenario("static-shards", StaticShards),
        new Scenario("join-leave", JoinLeave),
        new Scenario("snapshots", Snapshots),
        new Scenario("missing-changes", MissingChanges),
        new Scenario("concurrent-1", Concurrent1),
        new Scenario("concurrent-2", Concurrent2),
        new Scenario("concurrent-3", Concurrent3),
        new Scenario("unreliable-1", Unreliable1),
        new Scenario("unreliable-2", Unreliable2),
        new Scenario("unreliable-3", Unreliable3),
        new Scenario("challenge-deletion", ChallengeDeletion),
        new Scenario("challenge-unaffected", ChallengeUnaffected),
        new Scenario("challenge-partial", ChallengePartial),
        new Scenario("controller-crash", ControllerCrash),
        new Scenario("large-shard-move", LargeShardMove),
        // The 6.5840 controller tests (5A), on the controller's own 3-replica RSM (ShardControllerScenarios.Lab.cs).
        new Scenario("controller-basic", ShardControllerScenarios.Basic),
        new Scenario("controller-multi", ShardControllerScenarios.Multi),
        new Scenario("controller-minimal-moves", ShardControllerScenarios.MinimalMoves),
        new Scenario("controller-determinism", ShardControllerScenarios.Determinism),
    ]);

    /// <summary>A group down makes exactly its own shards unavailable; the others keep serving; it comes back whole.</summary>
    public static void StaticShards(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 3);
        var config = await c.JoinAsync(1, 2, 3);
        await c.WaitSettledAsync();
        var (node, client, _) = c.AddClient();
        var keys = OneKeyPerShard("s");
        foreach (var key in keys)
        {
            var put = await node.InvokeAsync(() => client.PutAsync(key, $"{key}-0", 0));
            Check(put.IsOk, $"put {key}: {put.Status}");
            c.Acknowledged(key, 0);
        }
        c.CrashGroup(3);
        var probes = keys.Select(k =>
        {
            var probe = c.AddClient(new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(3) });
            return (Key: k, Read: probe.Node.InvokeAsync(() => probe.Client.GetAsync(k)));
        }).ToList();
        foreach (var (key, read) in probes)
        {
            var result = await read;
            if (OwnerOf(config, key) == 3) Check(result.Status == KvStatus.Unavailable, $"{key} of the downed group 3 answered {result.Status}");
            else Check(result.IsOk && result.Value == $"{key}-0", $"{key} of group {OwnerOf(config, key)} read {result.Status} while only group 3 was down");
        }
        Check(keys.Any(k => OwnerOf(config, k) == 3) && keys.Any(k => OwnerOf(config, k) != 3), "the scenario needs shards on group 3 and elsewhere");
        c.StartGroup(3);
        foreach (var key in keys)
        {
            var read = await node.InvokeAsync(() => client.GetAsync(key));
            Check(read.IsOk && read.Value == $"{key}-0", $"{key} read {read.Status} after group 3 came back");
        }
        await c.CheckFinalAsync();
    });

    /// <summary>Groups join and leave while clients run, including a group leaving and joining again; the last group
    /// cannot leave (its shards' data would have nowhere to go).</summary>
    public static void JoinLeave(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 3);
        await c.JoinAsync(1);
        var work = new Workload(c, 5, 10);
        await c.SleepMs(700);
        await c.JoinAsync(2);
        await c.SleepMs(700);
        await c.JoinAsync(3);
        await c.SleepMs(700);
        await c.LeaveAsync(1);
        await c.SleepMs(700);
        await c.LeaveAsync(2);
        await c.SleepMs(700);
        var refused = await c.SubmitAsync(ControllerCommand.Leave(3));
        Check(refused.Error == ControllerError.LastGroup, $"the last group's leave answered {refused.Error}");
        await c.JoinAsync(1); // back to a group that held these shards before
        await c.SleepMs(700);
        await c.LeaveAsync(3);
        await c.SleepMs(700);
        await work.StopAsync();
        await c.WaitSettledAsync();
        await c.CheckFinalAsync();
    });

    /// <summary>Join/leave under load with small snapshots and every server crashing twice: groups restart from
    /// snapshots that carry shard states mid-move.</summary>
    public static void Snapshots(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 3, SnapshotThresholdBytes);
        await c.JoinAsync(1);
        var work = new Workload(c, 5, 10);
        var joined = new SortedSet<int> { 1 };
        for (var round = 0; round < 2; round++)
        {
            await ReconfigureAsync(c, joined, 3, 400);
            c.CrashAll();
            await c.SleepMs(200);
            c.StartAll();
        }
        await ReconfigureAsync(c, joined, 2, 400);
        await work.StopAsync();
        await c.WaitSettledAsync();
        Check(Enumerable.Range(1, c.GroupCount).SelectMany(c.ReplicasOf).Any(s => s.Rsm.SnapshotsTaken + s.Rsm.SnapshotsRestored > 0),
            "no group replica took or restored a snapshot: the scenario did not exercise snapshots");
        await c.CheckFinalAsync();
    });

    /// <summary>Replicas (one per group, then a whole group) are down while configurations advance; when they come
    /// back they catch up through every configuration they missed, in order.</summary>
    public static void MissingChanges(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 3, SnapshotThresholdBytes);
        await c.JoinAsync(1, 2, 3);
        var work = new Workload(c, 5, 10);
        await c.SleepMs(500);
        foreach (var n in new[] { 2, 5, 8 }) sim.Node(n).Crash();
        await c.LeaveAsync(1);
        await c.SleepMs(800);
        await c.JoinAsync(1);
        await c.SleepMs(800);
        await c.LeaveAsync(2);
        await c.SleepMs(800);
        foreach (var n in new[] { 2, 5, 8 }) sim.Node(n).Start();
        c.CrashGroup(3); // now a whole group misses changes (and holds up the shards it must hand over)
        await c.JoinAsync(2);
        await c.SleepMs(500);
        await c.LeaveAsync(3);
        await c.SleepMs(500);
        await c.JoinAsync(3);
        await c.SleepMs(500);
        c.StartGroup(3);
        await c.SleepMs(1500);
        await work.StopAsync();
        await c.WaitSettledAsync();
        await c.CheckFinalAsync();
    });

    public static void Concurrent1(Simulator sim) => Concurrent(sim, unreliable: false, faults: 1);
    public static void Concurrent2(Simulator sim) => Concurrent(sim, unreliable: false, faults: 2);
    public static void Concurrent3(Simulator sim) => Concurrent(sim, unreliable: false, faults: 3);
    public static void Unreliable1(Simulator sim) => Concurrent(sim, unreliable: true, faults: 1);
    public static void Unreliable2(Simulator sim) => Concurrent(sim, unreliable: true, faults: 2);
    public static void Unreliable3(Simulator sim) => Concurrent(sim, unreliable: true, faults: 3);

    /// <summary>
    /// Clients on shared keys while groups join and leave quickly. faults 1: nothing else; 2: a random group crashes
    /// and comes back after each step; 3: small snapshots, and every server crashes and restarts every few steps.
    /// </summary>
    private static void Concurrent(Simulator sim, bool unreliable, int faults) => Run(sim, async () =>
    {
        sim.Network.Reliable = !unreliable;
        var c = new ShardKvCluster(sim, 3, faults == 3 ? SnapshotThresholdBytes : null);
        await c.JoinAsync(1);
        var work = new Workload(c, 8, 8);
        var step = 0;
        await ReconfigureAsync(c, [1], 8, 300, faults switch
        {
            2 => async () =>
            {
                var gid = sim.Random.Next(1, c.GroupCount + 1);
                c.CrashGroup(gid);
                await c.SleepMs(300);
                c.StartGroup(gid);
            },
            3 => async () =>
            {
                if (++step % 3 != 0) return;
                c.CrashAll();
                await c.SleepMs(200);
                c.StartAll();
            },
            _ => null,
        });
        await c.SleepMs(1000);
        await work.StopAsync();
        sim.Network.Reliable = true;
        await c.WaitSettledAsync();
        await c.CheckFinalAsync();
    });

    /// <summary>Challenge 1: a group that handed its shards over really frees them: no keys left, and its persisted
    /// state (snapshot + WAL) shrinks far below the data it once held.</summary>
    public static void ChallengeDeletion(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 3, SnapshotThresholdBytes);
        await c.JoinAsync(1);
        var (node, client, _) = c.AddClient();
        var value = new string('x', 1000);
        const int Keys = 40;
        for (var i = 0; i < Keys; i++)
        {
            var put = await node.InvokeAsync(() => client.PutAsync($"d{i}", value, 0));
            Check(put.IsOk, $"put d{i}: {put.Status}");
            c.Acknowledged($"d{i}", 0);
        }
        const long DataBytes = Keys * 1000;
        var before = c.ReplicasOf(1).Max(s => s.Rsm.Raft.PersistedSizeBytes);
        Check(before >= DataBytes / 2, $"group 1 persists {before} bytes for {DataBytes} bytes of data: the measurement means nothing");
        await c.JoinAsync(2);
        await c.JoinAsync(3);
        await c.LeaveAsync(1);
        await c.WaitSettledAsync();
        // Later configurations (group 1 keeps following them) give it commands to apply, hence a new snapshot.
        for (var s = 0; s < 8; s++) await c.SubmitAsync(ControllerCommand.Move(s, s % 2 + 2));
        await c.WaitSettledAsync();
        await c.SleepMs(2000); // the WAL frees segments asynchronously
        foreach (var s in c.ReplicasOf(1))
        {
            var (keys, bytes) = s.State.DataSize();
            Check(keys == 0, $"group 1 on {s.Rsm.Id} still holds {keys} keys ({bytes} bytes) after handing every shard over");
            var after = s.Rsm.Raft.PersistedSizeBytes;
            sim.Log($"test: group 1 on {s.Rsm.Id} persists {after} bytes (was up to {before})");
            Check(after <= DataBytes / 3, $"group 1 on {s.Rsm.Id} still persists {after} bytes after deleting {DataBytes} bytes of data (was {before})");
        }
        await c.CheckFinalAsync();
    });

    /// <summary>Challenge 2: while a move is stuck (the new owner is down), shards the move does not involve keep
    /// serving gets and puts, even at groups that are handing other shards over.</summary>
    public static void ChallengeUnaffected(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 3);
        var before = await c.JoinAsync(1, 2);
        await c.WaitSettledAsync();
        var (node, client, _) = c.AddClient();
        var keys = OneKeyPerShard("u");
        foreach (var key in keys)
        {
            Check((await node.InvokeAsync(() => client.PutAsync(key, $"{key}-0", 0))).IsOk, $"put {key}");
            c.Acknowledged(key, 0);
        }
        c.CrashGroup(3);
        var after = await c.JoinAsync(3);
        // Groups 1 and 2 apply the new configuration (offering shards to group 3, which cannot pull them).
        var deadline = sim.Now + TimeSpan.FromSeconds(10);
        while (!new[] { 1, 2 }.All(g => c.ReplicasOf(g).Any(s => s.Rsm.IsLeader && s.State.Current.Num == after.Num)))
        {
            Check(sim.Now < deadline, "groups 1 and 2 did not take the configuration that gives shards to group 3");
            await c.SleepMs(20);
        }
        var unaffected = keys.Where(k => OwnerOf(after, k) == OwnerOf(before, k)).ToList();
        var moving = keys.Where(k => OwnerOf(after, k) == 3).ToList();
        Check(unaffected.Count > 0 && moving.Count > 0, "the scenario needs moving and unaffected shards");
        var quick = c.AddClient(new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(1) });
        foreach (var key in unaffected)
        {
            var read = await quick.Node.InvokeAsync(() => quick.Client.GetAsync(key));
            Check(read is { IsOk: true, Version: 1 }, $"unaffected {key} read {read.Status} during the move");
            var put = await quick.Node.InvokeAsync(() => quick.Client.PutAsync(key, $"{key}-1", 1));
            Check(put.IsOk, $"unaffected {key} put {put.Status} during the move");
            c.Acknowledged(key, 1);
        }
        foreach (var key in moving)
        {
            var read = await quick.Node.InvokeAsync(() => quick.Client.GetAsync(key));
            Check(read.Status == KvStatus.Unavailable, $"{key}, moving to the downed group 3, answered {read.Status}");
        }
        Check(new[] { 1, 2 }.Any(g => c.ReplicasOf(g).Any(s => Enumerable.Range(0, ShardKvCluster.ShardCount).Any(x => s.State.StateOf(x) == ShardState.Offering))),
            "no group was mid-move while the unaffected shards were served");
        c.StartGroup(3);
        await c.WaitSettledAsync();
        await c.CheckFinalAsync();
    });

    /// <summary>Challenge 2b: a group gaining shards from several groups serves each as soon as its own install
    /// applies, while a shard whose previous owner is down is still being pulled.</summary>
    public static void ChallengePartial(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 4);
        var before = await c.JoinAsync(1, 2, 3);
        await c.WaitSettledAsync();
        var (node, client, _) = c.AddClient();
        var keys = OneKeyPerShard("p");
        foreach (var key in keys)
        {
            Check((await node.InvokeAsync(() => client.PutAsync(key, $"{key}-0", 0))).IsOk, $"put {key}");
            c.Acknowledged(key, 0);
        }
        c.CrashGroup(3);
        var after = await c.JoinAsync(4);
        var gained = keys.Where(k => OwnerOf(after, k) == 4).ToList();
        var fromLive = gained.Where(k => OwnerOf(before, k) != 3).ToList();
        var fromDown = gained.Where(k => OwnerOf(before, k) == 3).ToList();
        Check(fromLive.Count > 0 && fromDown.Count > 0, $"group 4 must gain shards from the downed group 3 and from others ({fromLive.Count}, {fromDown.Count})");
        var quick = c.AddClient(new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(5) });
        foreach (var key in fromLive)
        {
            var read = await quick.Node.InvokeAsync(() => quick.Client.GetAsync(key));
            Check(read is { IsOk: true, Version: 1 }, $"{key}, gained from a live group, read {read.Status} while another pull was stuck");
        }
        foreach (var key in fromDown)
        {
            var read = await quick.Node.InvokeAsync(() => quick.Client.GetAsync(key));
            Check(read.Status == KvStatus.Unavailable, $"{key}, held by the downed group 3, answered {read.Status}");
        }
        var leader = c.ReplicasOf(4).First(s => s.Rsm.IsLeader);
        Check(leader.State.Current.Num == after.Num && fromDown.All(k => leader.State.StateOf(ShardMap.ShardOf(k, ShardKvCluster.ShardCount)) == ShardState.Pulling),
            "group 4 should still be pulling the shards of group 3");
        c.StartGroup(3);
        await c.WaitSettledAsync();
        await c.CheckFinalAsync();
    });

    /// <summary>The controller's leader crashes right after a join or leave reaches it, several times, while clients
    /// run: each change is applied once or not at all (the retry then applies it), every controller replica holds the
    /// same configurations, each valid, and the groups follow them to the end.</summary>
    public static void ControllerCrash(Simulator sim) => Run(sim, async () =>
    {
        var c = new ShardKvCluster(sim, 3);
        await c.JoinAsync(1);
        var work = new Workload(c, 4, 8);
        var commands = 1;
        var joined = new SortedSet<int> { 1 };
        for (var round = 0; round < 6; round++)
        {
            var leader = await ControllerLeaderAsync(c);
            var absent = Enumerable.Range(1, c.GroupCount).Where(g => !joined.Contains(g)).ToList();
            Task<ShardConfig> change;
            if (absent.Count > 0 && (joined.Count == 1 || sim.Random.Next(2) == 0))
            {
                change = c.JoinAsync(absent[0]);
                joined.Add(absent[0]);
            }
            else
            {
                var gid = joined.First();
                change = c.LeaveAsync(gid);
                joined.Remove(gid);
            }
            commands++;
            await sim.Delay(TimeSpan.FromMicroseconds(sim.Random.Next(0, 4000)));
            sim.Node(leader).Crash();
            await c.SleepMs(300);
            sim.Node(leader).Start();
            await change;
            await c.SleepMs(300);
        }
        await work.StopAsync();
        await c.WaitSettledAsync();
        var deadline = sim.Now + TimeSpan.FromSeconds(10);
        while (c.ControllerReplicas().Count() < 3 || c.ControllerReplicas().Any(r => r.Controller.Configs.Count != commands + 1))
        {
            Check(sim.Now < deadline, $"controller replicas hold {string.Join(", ", c.ControllerReplicas().Select(r => r.Controller.Configs.Count))} configurations, expected {commands + 1}");
            await c.SleepMs(50);
        }
        var replicas = c.ControllerReplicas().ToList();
        foreach (var other in replicas.Skip(1))
            for (var n = 0; n <= commands; n++)
                Check(replicas[0].Controller.Configs[n].SameAs(other.Controller.Configs[n]), $"controller replicas disagree on configuration {n}");
        foreach (var config in replicas[0].Controller.Configs.Skip(1))
            Check(config.Shards.All(config.Groups.ContainsKey), $"configuration {config.Num} assigns a shard to a group it does not have");
        await c.CheckFinalAsync();
    });

    private static async Task<int> ControllerLeaderAsync(ShardKvCluster c)
    {
        var deadline = c.Sim.Now + TimeSpan.FromSeconds(10);
        while (c.Sim.Now < deadline)
        {
            if (c.ControllerReplicas().FirstOrDefault(r => r.Rsm.IsLeader) is { } leader) return leader.Rsm.Id.Value;
            await c.SleepMs(20);
        }
        throw new ShardScenarioException("no controller leader within 10 s");
    }
}
