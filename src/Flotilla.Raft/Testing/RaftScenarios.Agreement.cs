using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// 6.5840 lab 3B: log agreement.
public static partial class RaftScenarios
{
    public static void BasicAgree(Simulator sim) => Run(sim, async () =>
    {
        var c = new RaftCluster(sim, 3);
        ulong last = 0;
        for (var i = 1; i <= 3; i++)
        {
            var index = await c.OneAsync($"cmd{i * 100}", 3, retry: false);
            if (index <= last) throw new RaftScenarioException($"index {index} does not follow {last}");
            last = index;
        }
    });

    public static void FollowerFailure(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("101", n, false);
        var leader1 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader1 % n + 1);
        await c.OneAsync("102", n - 1, false);
        await c.Sleep(ElectionTimeout);
        await c.OneAsync("103", n - 1, false);
        // Disconnect the remaining follower: nothing may commit.
        var leader2 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader2 % n + 1);
        c.Disconnect((leader2 + 1) % n + 1);
        var index = await c.StartAsync(leader2, "104") ?? throw new RaftScenarioException("leader rejected Start()");
        await c.Sleep(2 * ElectionTimeout);
        if (c.NCommitted(index.Index).Count > 0) throw new RaftScenarioException($"{c.NCommitted(index.Index).Count} committed but no majority");
    });

    public static void LeaderFailure(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("101", n, false);
        var leader1 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader1);
        await c.OneAsync("102", n - 1, false);
        await c.Sleep(ElectionTimeout);
        await c.OneAsync("103", n - 1, false);
        var leader2 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader2);
        var indexes = new List<ulong>();
        foreach (var i in c.All)
            if (await c.StartAsync(i, "104") is { } r) indexes.Add(r.Index);
        await c.Sleep(2 * ElectionTimeout);
        foreach (var index in indexes)
            if (c.NCommitted(index).Command == "104") throw new RaftScenarioException("104 committed without a majority");
    });

    public static void FailAgree(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("101", n, false);
        var leader = await c.CheckOneLeaderAsync();
        c.Disconnect(leader % n + 1);
        await c.OneAsync("102", n - 1, false);
        await c.OneAsync("103", n - 1, false);
        await c.Sleep(ElectionTimeout);
        await c.OneAsync("104", n - 1, false);
        await c.OneAsync("105", n - 1, false);
        c.Connect(leader % n + 1);
        await c.OneAsync("106", n, true);
        await c.Sleep(ElectionTimeout);
        await c.OneAsync("107", n, true);
    });

    public static void FailNoAgree(Simulator sim) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("10", n, false);
        var leader = await c.CheckOneLeaderAsync();
        for (var k = 1; k <= 3; k++) c.Disconnect((leader + k - 1) % n + 1);
        var r = await c.StartAsync(leader, "20") ?? throw new RaftScenarioException("leader rejected Start()");
        await c.Sleep(2 * ElectionTimeout);
        if (c.NCommitted(r.Index).Count > 0) throw new RaftScenarioException("committed without a majority");
        for (var k = 1; k <= 3; k++) c.Connect((leader + k - 1) % n + 1);
        // The disconnected majority may have chosen a new leader, or the old one may continue.
        var leader2 = await c.CheckOneLeaderAsync();
        if (await c.StartAsync(leader2, "30") is null) throw new RaftScenarioException("leader2 rejected Start()");
        await c.OneAsync("1000", n, true);
    });

    public static void ConcurrentStarts(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (attempt > 0) await c.SleepMs(3000);
            var leader = await c.CheckOneLeaderAsync();
            var first = await c.StartAsync(leader, "1");
            if (first is null) continue;
            var term = first.Value.Term;
            var starts = await Task.WhenAll(Enumerable.Range(100, 5).Select(i => c.StartAsync(leader, $"{i}")));
            if (starts.Any(s => s is null || s.Value.Term != term)) continue;
            var values = new List<string>();
            var failed = false;
            foreach (var s in starts)
            {
                var cmd = await c.WaitAsync(s!.Value.Index, n, term);
                if (cmd is null) { failed = true; break; }
                values.Add(cmd);
            }
            if (failed) continue; // the term moved on: retry, as 6.5840 does
            for (var i = 100; i < 105; i++)
                if (!values.Contains($"{i}")) throw new RaftScenarioException($"cmd {i} missing in {string.Join(",", values)}");
            return;
        }
        throw new RaftScenarioException("term changed too often");
    });

    public static void Rejoin(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        await c.OneAsync("101", n, true);
        var leader1 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader1);
        // The partitioned leader accepts entries it can never commit.
        await c.StartAsync(leader1, "102");
        await c.StartAsync(leader1, "103");
        await c.StartAsync(leader1, "104");
        await c.OneAsync("103", 2, true);
        var leader2 = await c.CheckOneLeaderAsync();
        c.Disconnect(leader2);
        c.Connect(leader1);
        await c.OneAsync("104", 2, true);
        c.Connect(leader2);
        await c.OneAsync("105", n, true);
    });

    public static void Backup(Simulator sim) => Run(sim, async () =>
    {
        const int n = 5;
        var c = new RaftCluster(sim, n);
        int Peer(int leader, int k) => (leader + k - 1) % n + 1;
        await c.OneAsync($"r{sim.Random.Next()}", n, true);
        // Put the leader and one follower in a partition; they accept entries that never commit.
        var leader1 = await c.CheckOneLeaderAsync();
        c.Disconnect(Peer(leader1, 2));
        c.Disconnect(Peer(leader1, 3));
        c.Disconnect(Peer(leader1, 4));
        for (var i = 0; i < 50; i++) await c.StartAsync(leader1, $"a{i}");
        await c.Sleep(ElectionTimeout / 2);
        c.Disconnect(Peer(leader1, 0));
        c.Disconnect(Peer(leader1, 1));
        // The other partition commits a long run of different entries.
        c.Connect(Peer(leader1, 2));
        c.Connect(Peer(leader1, 3));
        c.Connect(Peer(leader1, 4));
        for (var i = 0; i < 50; i++) await c.OneAsync($"b{i}", 3, true);
        // Now the new leader and one follower are cut off too, and accept more uncommittable entries.
        var leader2 = await c.CheckOneLeaderAsync();
        var other = Peer(leader1, 2);
        if (leader2 == other) other = Peer(leader2, 1);
        c.Disconnect(other);
        for (var i = 0; i < 50; i++) await c.StartAsync(leader2, $"c{i}");
        await c.Sleep(ElectionTimeout / 2);
        // Bring the original leader back with the follower that was cut off: they must adopt the longer committed log.
        foreach (var i in c.All) c.Disconnect(i);
        c.Connect(Peer(leader1, 0));
        c.Connect(Peer(leader1, 1));
        c.Connect(other);
        for (var i = 0; i < 50; i++) await c.OneAsync($"d{i}", 3, true);
        foreach (var i in c.All) c.Connect(i);
        await c.OneAsync($"r{sim.Random.Next()}", n, true);
    });

    /// <summary>RPC budgets (counted in one-way messages; a 6.5840 RPC is a request and a reply, two messages).</summary>
    public static void Count(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        var leader = await c.CheckOneLeaderAsync();
        // Budgets in RPCs as 6.5840 counts them: request-type messages only.
        var total1 = c.RequestCount;
        if (total1 > 30 || total1 < 1) throw new RaftScenarioException($"too many or few RPCs ({total1}) to elect the initial leader");

        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (attempt > 0) await c.SleepMs(3000);
            leader = await c.CheckOneLeaderAsync();
            total1 = c.RequestCount;
            const int iters = 10;
            var first = await c.StartAsync(leader, "1");
            if (first is null) continue;
            var (index0, term) = first.Value;
            var cmds = new List<string>();
            var ok = true;
            for (var i = 1; i < iters + 2; i++)
            {
                var cmd = $"x{sim.Random.Next()}";
                cmds.Add(cmd);
                var r = await c.StartAsync(leader, cmd);
                if (r is null || r.Value.Term != term) { ok = false; break; }
                if (r.Value.Index != index0 + (ulong)i) throw new RaftScenarioException("Start() failed to give consecutive indexes");
            }
            if (!ok) continue;
            for (var i = 1; i < iters + 1 && ok; i++)
            {
                var cmd = await c.WaitAsync(index0 + (ulong)i, n, term);
                if (cmd is null) ok = false;
                else if (cmd != cmds[i - 1]) throw new RaftScenarioException($"wrong value {cmd} committed for index {index0 + (ulong)i}");
            }
            if (!ok || c.All.Any(i => c.NodeOf(i)?.Term != term)) continue;
            var total2 = c.RequestCount;
            if (total2 - total1 > (iters + 1 + 3) * 3)
                throw new RaftScenarioException($"too many RPCs ({total2 - total1}) for {iters + 1} entries (limit {(iters + 1 + 3) * 3})");
            await c.Sleep(ElectionTimeout);
            var total3 = c.RequestCount;
            if (total3 - total2 > 3 * 20)
                throw new RaftScenarioException($"too many RPCs ({total3 - total2}) for 1 second of idleness (limit 60)");
            return;
        }
        throw new RaftScenarioException("term changed too often");
    });

    /// <summary>6.5840 TestRPCBytes3B: each command is sent to each follower about once — RPC bytes stay within
    /// servers × payload + 50,000.</summary>
    public static void RpcBytes(Simulator sim) => Run(sim, async () =>
    {
        const int n = 3;
        var c = new RaftCluster(sim, n);
        var first = await c.OneAsync("99", n, false); // after the leader's no-op
        var bytes0 = c.RpcBytes;
        long sent = 0;
        for (var k = 1UL; k <= 10; k++)
        {
            var cmd = new string((char)('a' + (int)k), 5000);
            var at = await c.OneAsync(cmd, n, false);
            if (at != first + k) throw new RaftScenarioException($"got index {at} but expected {first + k}");
            sent += cmd.Length;
        }
        var got = c.RpcBytes - bytes0;
        if (got > n * sent + 50_000) throw new RaftScenarioException($"too many RPC bytes: {got}, expected at most {n * sent + 50_000}");
    });
}
