using Flotilla.Kv.Client;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Replicated.Testing;

// The kvraft scenarios that are not GenericTest shapes: one partition, snapshot RPC and size, speed.
public static partial class ReplicatedKvScenarios
{
    /// <summary>
    /// The leader and one follower are cut off with two clients: those clients block (a put and a get), while a
    /// client on the majority side proceeds; healing the network completes the blocked operations.
    /// </summary>
    public static void OnePartition(Simulator sim) => Run(sim, async () =>
    {
        var c = new ReplicatedKvCluster(sim, 5);
        var major = c.AddClient(ClientOptions);
        var minorPut = c.AddClient(ClientOptions);
        var minorGet = c.AddClient(ClientOptions);
        Expect(await major.Node.InvokeAsync(() => major.Client.PutAsync("k", "13", 0)), KvStatus.Ok, "first put");
        var leader = await c.WaitLeaderAsync();
        var minority = new[] { leader, leader % 5 + 1 }.Select(i => new NodeId(i)).ToList();
        var majority = c.ServerIds.Except(minority).ToList();
        c.Partition([.. minority, minorPut.Node.Id, minorGet.Node.Id], [.. majority, major.Node.Id]);

        Expect(await major.Node.InvokeAsync(() => major.Client.PutAsync("k", "14", 1)), KvStatus.Ok, "majority put");
        var read = await major.Node.InvokeAsync(() => major.Client.GetAsync("k"));
        if (read is not { Status: KvStatus.Ok, Value: "14", Version: 2 }) throw new KvScenarioException($"majority read {read}, expected 14 at version 2");

        var blockedPut = minorPut.Node.InvokeAsync(() => minorPut.Client.PutAsync("k", "15", 2));
        var blockedGet = minorGet.Node.InvokeAsync(() => minorGet.Client.GetAsync("k"));
        await c.SleepMs(2000);
        if (blockedPut.IsCompleted) throw new KvScenarioException($"a put in the minority completed: {blockedPut.Result}");
        if (blockedGet.IsCompleted) throw new KvScenarioException($"a get in the minority completed: {blockedGet.Result}");

        c.Heal();
        var healedAt = sim.Now;
        var put = await blockedPut;
        // Its first attempts went unanswered, so a success may come back as ErrMaybe (an earlier attempt applied).
        if (put.Status is not (KvStatus.Ok or KvStatus.ErrMaybe)) throw new KvScenarioException($"blocked put ended {put.Status} after healing");
        var get = await blockedGet;
        if (!get.IsOk) throw new KvScenarioException($"blocked get ended {get.Status} after healing");
        if (sim.Now - healedAt > TimeSpan.FromSeconds(10)) throw new KvScenarioException("blocked operations took over 10 s to complete after healing");
        var final = await major.Node.InvokeAsync(() => major.Client.GetAsync("k"));
        if (final is not { Value: "15", Version: 3 }) throw new KvScenarioException($"after healing read {final}, expected 15 at version 3");
        c.CheckLinearizable();
    });

    /// <summary>
    /// A server misses enough puts that the others trim their logs; then it is needed for a majority, so it must
    /// catch up through InstallSnapshot.
    /// </summary>
    public static void SnapshotRpc(Simulator sim) => Run(sim, async () =>
    {
        var c = new ReplicatedKvCluster(sim, 3, SnapshotThresholdBytes);
        var (node, client) = c.AddClient(ClientOptions);
        Expect(await node.InvokeAsync(() => client.PutAsync("a", "A", 0)), KvStatus.Ok, "put a");
        c.Partition([c.ServerIds[0], c.ServerIds[1], node.Id], [c.ServerIds[2]]);
        var filler = new string('x', 100);
        for (var i = 0; i < 100; i++) Expect(await node.InvokeAsync(() => client.PutAsync($"k{i}", filler, 0)), KvStatus.Ok, $"put k{i}");
        // Now n3 (far behind) and n1 must form the majority without n2.
        c.Partition([c.ServerIds[0], c.ServerIds[2], node.Id], [c.ServerIds[1]]);
        Expect(await node.InvokeAsync(() => client.PutAsync("c", "C", 0)), KvStatus.Ok, "put c");
        Expect(await node.InvokeAsync(() => client.PutAsync("e", "E", 0)), KvStatus.Ok, "put e");
        var a = await node.InvokeAsync(() => client.GetAsync("a"));
        if (a.Value != "A") throw new KvScenarioException($"get a = {a}");
        if (c.Server(3)!.Rsm.SnapshotsRestored == 0) throw new KvScenarioException("n3 caught up without InstallSnapshot: the log was never trimmed");
        c.Heal();
        Expect(await node.InvokeAsync(() => client.PutAsync("f", "F", 0)), KvStatus.Ok, "put f");
        var deadline = sim.Now + TimeSpan.FromSeconds(10);
        while (c.All.Any(i => c.Server(i)!.State.KeyCount != 104))
        {
            if (sim.Now > deadline) throw new KvScenarioException($"servers disagree on the key count: {string.Join(", ", c.All.Select(i => c.Server(i)!.State.KeyCount))}");
            await c.SleepMs(50);
        }
        CheckPersistedBound(c, SnapshotThresholdBytes);
        c.CheckLinearizable();
    });

    /// <summary>Rewriting one small key many times: the persisted state stays within 8x the threshold, and the
    /// snapshot is as small as the state.</summary>
    public static void SnapshotSize(Simulator sim) => Run(sim, async () =>
    {
        var c = new ReplicatedKvCluster(sim, 3, SnapshotThresholdBytes);
        var (node, client) = c.AddClient(ClientOptions);
        for (var i = 0; i < 400; i++)
        {
            Expect(await node.InvokeAsync(() => client.PutAsync("x", i % 2 == 0 ? "0" : "1", (ulong)i)), KvStatus.Ok, $"put {i}");
            CheckPersistedBound(c, SnapshotThresholdBytes);
        }
        foreach (var i in c.All)
        {
            var rsm = c.Server(i)!.Rsm;
            if (rsm.SnapshotsTaken == 0) throw new KvScenarioException($"n{i} never snapshotted");
            if (rsm.LastSnapshotBytes > 500) throw new KvScenarioException($"n{i} took a {rsm.LastSnapshotBytes}-byte snapshot of a one-key state");
        }
        c.CheckLinearizable();
    });

    /// <summary>1000 sequential puts by one client: on average each takes under a third of a heartbeat interval, so
    /// commits do not wait for heartbeats.</summary>
    public static void Speed(Simulator sim) => MeasureSequentialPuts(sim, 1000);

    /// <summary>Speed4C: the same with snapshots taken all along (a snapshot must not stall the commit path).</summary>
    public static void SpeedSnapshots(Simulator sim) => MeasureSequentialPuts(sim, 1000, SnapshotThresholdBytes);

    /// <summary>Runs <paramref name="puts"/> sequential puts and returns their mean virtual latency; throws when it is
    /// not under a third of a heartbeat interval (or, with a threshold, when no server snapshotted).</summary>
    public static TimeSpan MeasureSequentialPuts(Simulator sim, int puts, long? snapshotThresholdBytes = null)
    {
        var mean = TimeSpan.Zero;
        Run(sim, async () =>
        {
            var c = new ReplicatedKvCluster(sim, 3, snapshotThresholdBytes);
            var (node, client) = c.AddClient(ClientOptions);
            Expect(await node.InvokeAsync(() => client.PutAsync("x", "0", 0)), KvStatus.Ok, "first put");
            var start = sim.Now;
            for (var i = 1; i <= puts; i++) Expect(await node.InvokeAsync(() => client.PutAsync("x", $"{i}", (ulong)i)), KvStatus.Ok, $"put {i}");
            mean = (sim.Now - start) / puts;
            sim.Log($"test: {puts} sequential puts, mean {mean.TotalMilliseconds:0.000} ms of virtual time");
            if (mean >= c.HeartbeatInterval / 3)
                throw new KvScenarioException($"mean put latency {mean.TotalMilliseconds:0.0} ms is not under a third of the {c.HeartbeatInterval.TotalMilliseconds} ms heartbeat");
            if (snapshotThresholdBytes is not null && !c.All.Any(i => c.Server(i)!.Rsm.SnapshotsTaken > 0))
                throw new KvScenarioException("no server took a snapshot: the scenario did not exercise snapshots");
            c.CheckLinearizable();
        });
        return mean;
    }

    private static void Expect(KvPutResult result, KvStatus expected, string what)
    {
        if (result.Status != expected) throw new KvScenarioException($"{what}: {result.Status} ({result.Detail}), expected {expected}");
    }
}
