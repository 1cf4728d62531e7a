using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// 6.5840 lab 3C: persistence, Figure 8, unreliable networks, churn.
public static partial class RaftScenarios
{
    public static void Persist1(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("11", n, true);
        foreach (var i in c.All) c.Restart(i);
        foreach (var i in c.All)
        {
            c.Disconnect(i);
            c.Connect(i);
        }
        await c.OneAsync("12", n, true);
        var leader1 = await c.CheckOneLeaderAsync();
        c.Restart(leader1);
        await c.OneAsync("13", n, true);
        var leader2 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader2);
        var index14 = await c.OneAsync("14", n - 1, true);
        c.Restart(leader2);
        c.Connect(leader2);
        await c.WaitAsync(index14, n, 0); // the restarted server catches up
        var i3 = (await c.CheckOneLeaderAsync()) % n + 1;
        c.Disconnect(i3);
        await c.OneAsync("15", n - 1, true);
        c.Restart(i3);
        c.Connect(i3);
        await c.OneAsync("16", n, true);
    });

    public static void Persist2(Simulator sim) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n);
        int Peer(int leader, int k) => (leader + k - 1) % n + 1;
        var index = 1;
        for (var iteration = 0; iteration < 5; iteration++)
        {
            await c.OneAsync($"{10 + index++}", n, true);
            var leader1 = await c.CheckOneLeaderAsync();
            c.Disconnect(Peer(leader1, 1));
            c.Disconnect(Peer(leader1, 2));
            await c.OneAsync($"{10 + index++}", n - 2, true);
            c.Disconnect(Peer(leader1, 0));
            c.Disconnect(Peer(leader1, 3));
            c.Disconnect(Peer(leader1, 4));
            c.Restart(Peer(leader1, 1));
            c.Restart(Peer(leader1, 2));
            c.Connect(Peer(leader1, 1));
            c.Connect(Peer(leader1, 2));
            await c.Sleep(ElectionTimeout);
            c.Restart(Peer(leader1, 3));
            c.Connect(Peer(leader1, 3));
            await c.OneAsync($"{10 + index++}", n - 2, true);
            c.Connect(Peer(leader1, 4));
            c.Connect(Peer(leader1, 0));
        }
        await c.OneAsync("1000", n, true);
    });

    public static void Persist3(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        int Peer(int leader, int k) => (leader + k - 1) % n + 1;
        await c.OneAsync("101", n, true);
        var leader = await c.CheckOneLeaderAsync();
        c.Disconnect(Peer(leader, 2));
        await c.OneAsync("102", 2, true);
        c.Crash(Peer(leader, 0));
        c.Crash(Peer(leader, 1));
        c.Connect(Peer(leader, 2));
        c.Restart(Peer(leader, 0));
        await c.OneAsync("103", 2, true);
        c.Restart(Peer(leader, 1));
        await c.OneAsync("104", n, true);
    });

    /// <summary>
    /// Two of three members lose the tail of their WAL while down (the newest segment deleted or emptied). Taking that
    /// for a shorter log let them elect one of themselves in a term that already had a leader and accept writes
    /// over committed entries. Now they must refuse to start (naming the file), and the survivor, alone, must
    /// neither lead nor commit; no term ever has two leaders.
    /// </summary>
    public static void LostWalTail(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        ulong last = 0;
        for (var k = 0; k < 8; k++) last = await c.OneAsync($"a{k}", n, true);
        var survivor = sim.Random.Next(n) + 1;
        var victims = c.All.Where(i => i != survivor).ToList();
        foreach (var i in victims) c.Crash(i);
        var lost = new Dictionary<int, string>();
        foreach (var i in victims) lost[i] = await c.LoseWalTailAsync(i, delete: sim.Random.Next(2) == 0);
        foreach (var i in victims) c.Restart(i);

        var leaders = new Dictionary<ulong, HashSet<int>>();
        var proposed = false;
        for (var step = 0; step < 100; step++)
        {
            await c.SleepMs(50);
            foreach (var i in c.All)
            {
                if (c.NodeOf(i) is not { IsLeader: true } node) continue;
                if (!leaders.TryGetValue(node.Term, out var set)) leaders[node.Term] = set = [];
                set.Add(i);
                if (set.Count > 1) throw new RaftScenarioException($"term {node.Term} has two leaders: {string.Join(",", set)}");
            }
            if (!proposed && step == 40)
            {
                proposed = true;
                foreach (var i in c.All) await c.StartAsync(i, "over-lost-data");
            }
        }
        c.CheckApplyErrors();
        foreach (var i in victims)
        {
            if (c.NodeOf(i) is not null) throw new RaftScenarioException($"server {i} started although its WAL lost {lost[i]}");
            if (c.BootFailure(i) is not { } refusal || !refusal.Message.Contains(lost[i], StringComparison.Ordinal))
                throw new RaftScenarioException($"server {i} should refuse to start naming {lost[i]}, but: {c.BootFailure(i)?.Message ?? "no error"}");
        }
        c.CheckNoLeader();
        if (c.NCommitted(last + 1).Count > 0) throw new RaftScenarioException($"an entry was committed at {last + 1} without a majority of intact members");
    });

    /// <summary>Leaders crash right after accepting entries, so old-term entries pile up on minorities (Figure 8).</summary>
    public static void Figure8(Simulator sim) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n);
        await c.OneAsync($"r{sim.Random.Next()}", 1, true);
        var up = n;
        for (var iteration = 0; iteration < 150; iteration++)
        {
            var leader = -1;
            foreach (var i in c.All)
                if (c.NodeOf(i) is not null && await c.StartAsync(i, $"r{sim.Random.Next()}") is not null) leader = i;
            await c.SleepMs(sim.Random.Next(100) < 13 ? sim.Random.Next(500) : sim.Random.Next(13));
            if (leader != -1)
            {
                c.Crash(leader);
                up--;
            }
            if (up < 3)
            {
                var s = sim.Random.Next(n) + 1;
                if (!c.IsUp(s))
                {
                    c.Restart(s);
                    up++;
                }
            }
        }
        foreach (var i in c.All.Where(i => !c.IsUp(i))) c.Restart(i);
        await c.OneAsync($"r{sim.Random.Next()}", n, true);
    });

    public static void UnreliableAgree(Simulator sim) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n) { Reliable = false };
        for (var iteration = 1; iteration < 50; iteration++)
        {
            var batch = Enumerable.Range(0, 4).Select(j => c.OneAsync($"{100 * iteration + j}", 1, true)).ToList();
            await c.OneAsync($"{iteration}", 1, true);
            await Task.WhenAll(batch);
        }
        c.Reliable = true;
        await c.OneAsync("100", n, true);
    });

    /// <summary>CI's Figure 8 (unreliable): 300 iterations; the soak also runs the lab's 1000 (<see cref="Figure8UnreliableLab"/>).</summary>
    public static void Figure8Unreliable(Simulator sim) => Figure8Unreliable(sim, 300);

    public static void Figure8Unreliable(Simulator sim, int iterations) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n) { Reliable = false };
        await c.OneAsync($"r{sim.Random.Next(10000)}", 1, true);
        var up = n;
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            if (iteration == 100) sim.Network.LongReordering = true;
            var leader = -1;
            foreach (var i in c.All)
                if (await c.StartAsync(i, $"r{sim.Random.Next(10000)}") is not null && c.IsConnected(i)) leader = i;
            await c.SleepMs(sim.Random.Next(100) < 13 ? sim.Random.Next(500) : sim.Random.Next(13));
            if (leader != -1 && sim.Random.Next(1000) < 500)
            {
                c.Disconnect(leader);
                up--;
            }
            if (up < 3)
            {
                var s = sim.Random.Next(n) + 1;
                if (!c.IsConnected(s))
                {
                    c.Connect(s);
                    up++;
                }
            }
        }
        foreach (var i in c.All) c.Connect(i);
        sim.Network.LongReordering = false;
        await c.OneAsync($"r{sim.Random.Next(10000)}", n, true);
    });

    public static void ReliableChurn(Simulator sim) => Churn(sim, reliable: true);
    public static void UnreliableChurn(Simulator sim) => Churn(sim, reliable: false);

    /// <summary>Clients propose continuously while servers crash, restart and lose connectivity; every value a
    /// client saw committed must be in the final log.</summary>
    private static void Churn(Simulator sim, bool reliable) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n) { Reliable = reliable };
        var stop = false;
        var seenCommitted = new List<string>();
        async Task Client(int me)
        {
            var x = 0;
            while (!stop)
            {
                var cmd = $"c{me}-{x++}";
                ulong? index = null;
                foreach (var i in c.All)
                {
                    if (await c.StartAsync(i, cmd) is { } r)
                    {
                        index = r.Index;
                        break;
                    }
                }
                if (index is { } at)
                {
                    // Poll briefly for the commit; a value that never shows up was simply lost with its leader.
                    for (var wait = 10; wait < 1000; wait *= 2)
                    {
                        var (count, value) = c.NCommitted(at);
                        if (count > 0)
                        {
                            if (value == cmd) seenCommitted.Add(cmd);
                            break;
                        }
                        await c.SleepMs(wait);
                    }
                }
                else
                {
                    await c.SleepMs(79 + me * 17);
                }
            }
        }
        var clients = Enumerable.Range(0, 3).Select(Client).ToList();
        for (var iteration = 0; iteration < 20; iteration++)
        {
            if (sim.Random.Next(1000) < 200) c.Disconnect(sim.Random.Next(n) + 1);
            if (sim.Random.Next(1000) < 500)
            {
                var i = sim.Random.Next(n) + 1;
                if (!c.IsUp(i)) c.Restart(i);
                c.Connect(i);
            }
            if (sim.Random.Next(1000) < 200)
            {
                var i = sim.Random.Next(n) + 1;
                if (c.IsUp(i)) c.Crash(i);
            }
            await c.SleepMs((int)(ElectionTimeout.TotalMilliseconds * 7 / 10));
        }
        await c.Sleep(ElectionTimeout);
        c.Reliable = true;
        foreach (var i in c.All)
        {
            if (!c.IsUp(i)) c.Restart(i);
            c.Connect(i);
        }
        stop = true;
        await Task.WhenAll(clients);
        await c.Sleep(ElectionTimeout);
        var last = await c.OneAsync($"final{sim.Random.Next()}", n, true);
        var finalLog = new HashSet<string>();
        for (var index = 1UL; index <= last; index++)
            if (c.NCommitted(index).Command is { } cmd) finalLog.Add(cmd);
        foreach (var v in seenCommitted)
            if (!finalLog.Contains(v)) throw new RaftScenarioException($"value {v} was committed but is missing from the final log");
    });
}
