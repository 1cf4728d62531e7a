using Flotilla.Raft.Testing.Chaos;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// The chaos property test again, but through the real driver (RaftNode) and WAL storage on the simulator's
// crash-prone disks, with the simulated network's loss and reordering: what the bare-core chaos run cannot reach
// (the Ready pump, fsync timing, WAL recovery after power loss, snapshots written by the service).
public static partial class RaftScenarios
{
    public const int NodeChaosEvents = 250;

    /// <summary>Random crashes (power loss, unsynced data lost), restarts, two-sided partitions, heals and lossy
    /// periods on 3 or 5 <see cref="RaftNode"/>s with WAL storage, the service snapshotting every few entries;
    /// <see cref="SafetyChecker"/> runs every 10 ms of virtual time and every applier checks that all nodes apply the
    /// same command at each index; then everything heals and a fresh command must be applied on every node.</summary>
    public static void NodeChaos(Simulator sim) => NodeChaos(sim, sim.Random.Next(2) == 0 ? 3 : 5, mutationCommitEarlierTerms: false);

    /// <param name="mutationCommitEarlierTerms">Mutation check: leaders commit entries of earlier terms by counting
    /// replicas (Figure 8 broken). The run must then fail for some seed, or the checker proves nothing.</param>
    public static void NodeChaos(Simulator sim, int n, bool mutationCommitEarlierTerms) => Run(sim, async () =>
    {
        var random = sim.Random;
        // One entry per Append half the time: followers then acknowledge a long log piece by piece, which opens the
        // windows where a quorum holds an old entry but not the new leader's no-op (where Figure 8 bites).
        var appendBytes = random.Next(2) == 0 ? 1 : 1 << 20;
        var c = new RaftCluster(sim, n, snapshotEvery: 5 + random.Next(10), tune: o => o with
        {
            MaxAppendBytes = appendBytes, MutationCommitEarlierTerms = mutationCommitEarlierTerms,
            // Ticks of 50 ms (heartbeat 100 ms, election 400-800 ms as by default): a fifth of the timer events.
            TickInterval = TimeSpan.FromMilliseconds(50), HeartbeatTicks = 2, ElectionTicks = 8,
        });
        var checker = new SafetyChecker();
        var down = new HashSet<int>();
        var proposals = 0;

        void Check()
        {
            checker.Check(c.All.Select(c.NodeOf).Select(x => x?.CoreIfStarted).OfType<RaftCore>());
            c.CheckApplyErrors();
        }

        for (var e = 0; e < NodeChaosEvents; e++)
        {
            var roll = random.Next(100);
            var leader = c.All.FirstOrDefault(i => c.NodeOf(i) is { IsLeader: true });
            if (roll < 40)
            {
                // Proposals go mostly to whoever claims to lead (several may, in different terms).
                var to = leader > 0 && random.Next(4) > 0 ? leader : 1 + random.Next(n);
                for (var k = random.Next(1, 4); k > 0; k--) await c.StartAsync(to, $"c{++proposals}");
            }
            else if (roll < 60)
            {
                // Mostly the leader, and often right after it was elected or proposed: Figure 8 needs leaders to die
                // mid-replication. At most a minority is down.
                var victim = leader > 0 && random.Next(4) > 0 ? leader : 1 + random.Next(n);
                if (!down.Contains(victim) && down.Count < (n - 1) / 2)
                {
                    c.Crash(victim);
                    down.Add(victim);
                }
            }
            else if (roll < 80)
            {
                if (down.Count > 0)
                {
                    var back = down.ElementAt(random.Next(down.Count));
                    down.Remove(back);
                    c.Restart(back);
                }
            }
            else if (roll < 87)
            {
                var sides = c.All.GroupBy(_ => random.Next(2)).Select(g => (IReadOnlyCollection<NodeId>)g.Select(i => new NodeId(i)).ToList()).ToArray();
                sim.Network.Partition(sides);
            }
            else if (roll < 94)
            {
                sim.Network.Heal();
            }
            else
            {
                c.Reliable = !c.Reliable;
            }
            // Let the world run a little (mostly a few milliseconds, sometimes an election timeout), checking as it goes.
            var ms = random.Next(10) < 7 ? random.Next(1, 15) : random.Next(15, 600);
            for (; ms > 0; ms -= 10)
            {
                await c.SleepMs(Math.Min(ms, 10));
                Check();
            }
        }

        // Liveness: heal, restart, reliable network; a fresh command must reach every node.
        sim.Network.Heal();
        c.Reliable = true;
        foreach (var i in down) c.Restart(i);
        await c.OneAsync("final", n, true);
        Check();
    });
}
