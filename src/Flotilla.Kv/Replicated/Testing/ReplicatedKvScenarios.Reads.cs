using Flotilla.Kv.Client;
using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Replicated.Testing;

// The read modes other than leader ReadIndex (docs/raft.md "Reads"): contended histories with lease reads and with
// follower reads under partitions, loss and crashes, and a leader paused while the group moves on without it.
public static partial class ReplicatedKvScenarios
{
    /// <summary>The persist-partition-unreliable shape (5 servers, 5 clients on shared keys, loss, partitions, every
    /// server crashing between rounds) with the leader answering gets from its lease.</summary>
    public static void LeaseReadsContended(Simulator sim) =>
        Generic(sim, new GenericSpec(Clients: 5, Unreliable: true, Crash: true, Partitions: true, Reads: ReadMode.Lease));

    /// <summary>The same shape with every member serving gets (followers ask the leader for a read index); the
    /// clients start each get at a random member.</summary>
    public static void FollowerReadsContended(Simulator sim) =>
        Generic(sim, new GenericSpec(Clients: 5, Unreliable: true, Crash: true, Partitions: true, Reads: ReadMode.Follower));

    /// <summary>Lease reads, a leader paused while the others elect a new one that takes writes, then a read at the
    /// old leader as soon as it resumes (<see cref="PausedLeader"/>).</summary>
    public static void LeaseReadsPausedLeader(Simulator sim) => PausedLeader(sim, ReadMode.Lease);

    /// <summary>
    /// The old leader is paused (SIGSTOP: nothing of it runs, its clock runs on) right after a client read through
    /// it, and cut off from the other servers; they elect a new leader and a put completes there. The old leader then
    /// resumes and at once receives a get (from a client that talks only to it). Its lease, measured on the monotonic
    /// clock, has long expired, so it must confirm with a round it can no longer win: the get fails or waits, but must
    /// not return the value the completed put overwrote (the linearizability checker decides). A lease measured in
    /// ticks (<see cref="ReplicatedKvMutation.TickBasedLease"/>) still holds after the pause, because no tick ran.
    /// </summary>
    public static void PausedLeader(Simulator sim, ReadMode reads, ReplicatedKvMutation mutation = ReplicatedKvMutation.None) => Run(sim, async () =>
    {
        var c = new ReplicatedKvCluster(sim, 3, mutation: mutation, reads: reads);
        var writer = c.AddClient(ClientOptions);
        Expect(await writer.Node.InvokeAsync(() => writer.Client.PutAsync("k", "before-pause", 0)), KvStatus.Ok, "first put");
        var old = await c.WaitLeaderAsync();
        var oldId = new NodeId(old);
        var reader = c.AddClient(ClientOptions with { OperationTimeout = TimeSpan.FromSeconds(3) }, endpoints: [oldId]);
        await c.SleepMs(300); // a few heartbeat rounds: the leader's lease is live when it is paused
        var first = await reader.Node.InvokeAsync(() => reader.Client.GetAsync("k"));
        sim.Log($"test: read through n{old} before the pause: {first.Status}");
        // Pause at a random point of the heartbeat period, so the lease's age at the pause varies by seed.
        await c.SleepMs(sim.Random.Next(0, 120));
        sim.Node(old).Pause();
        c.Partition([oldId], c.ServerIds.Where(id => id != oldId));
        await c.WaitLeaderAsync(i => i != old);
        Expect(await writer.Node.InvokeAsync(() => writer.Client.PutAsync("k", "after-pause", 1)), KvStatus.Ok, "put at the new leader");
        sim.Node(old).Resume();
        var stale = reader.Node.InvokeAsync(() => reader.Client.GetAsync("k"));
        var read = await stale;
        sim.Log($"test: read through n{old} after it resumed: {read.Status} {read.Value}");
        c.Heal();
        c.CheckLinearizable();
    });
}
