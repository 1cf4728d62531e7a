using Flotilla.Rsm;
using Flotilla.ShardKv.Controller;
using Flotilla.Simulation;

namespace Flotilla.ShardKv.Testing;

/// <summary>
/// The 6.5840 shard-controller tests (lab 5A) as simulated scenarios of the <c>shardkv</c> suite: the controller on its
/// 3-replica RSM, an unreliable network, a replica crashing now and then. Each command's reply is checked as it comes,
/// and at the end every configuration ever created is queried again (configurations never change once created) and
/// compared with every replica's copy.
/// </summary>
public static partial class ShardControllerScenarios
{
    /// <summary>Join, leave, move, queries of the latest and of historical numbers, rejected commands creating nothing,
    /// the last group's Leave refused.</summary>
    public static void Basic(Simulator sim) => sim.RunTest(async () =>
    {
        StartReplicas(sim);
        var s = new Session(sim);
        var initial = await s.QueryAsync(-1);
        Check(initial.Num == 0 && initial.Groups.Count == 0 && initial.Shards.All(g => g == 0), "configuration 0 is not empty");
        var first = await s.ChangeAsync(Join(1));
        Check(first.Shards.All(g => g == 1), "after the first join, group 1 does not own every shard");
        await s.ChangeAsync(Join(2));
        await s.RejectedAsync(Join(2), ControllerError.GroupExists);
        await s.RejectedAsync(ControllerCommand.Leave(9), ControllerError.NoSuchGroup);
        await s.RejectedAsync(ControllerCommand.Move(ShardCount, 1), ControllerError.NoSuchShard);
        await s.RejectedAsync(ControllerCommand.Move(0, 9), ControllerError.NoSuchGroup);
        await s.ChangeAsync(Join(3));
        Check((await s.QueryAsync(1)).SameAs(first), "configuration 1 changed after later commands");
        var left = await s.ChangeAsync(ControllerCommand.Leave(1));
        Check(!left.ShardsOf(1).Any() && left.Groups.Keys.SequenceEqual([2, 3]), "group 1 left but still appears");
        for (var shard = 0; shard < ShardCount; shard++)
        {
            var gid = shard % 2 == 0 ? 2 : 3;
            var before = s.Latest;
            var moved = await s.ChangeAsync(ControllerCommand.Move(shard, gid));
            Check(moved.Shards[shard] == gid, $"move of shard {shard} to {gid} gave it to {moved.Shards[shard]}");
            Check(Enumerable.Range(0, ShardCount).All(k => k == shard || moved.Shards[k] == before.Shards[k]), $"move of shard {shard} moved another shard");
        }
        Check(Enumerable.Range(0, ShardCount).All(k => s.Latest.Shards[k] == (k % 2 == 0 ? 2 : 3)), "the moves did not stick");
        await s.ChangeAsync(Join(1)); // a group that left joins again
        await s.ChangeAsync(ControllerCommand.Leave(2));
        await s.ChangeAsync(ControllerCommand.Leave(3));
        await s.RejectedAsync(ControllerCommand.Leave(1), ControllerError.LastGroup);
        await s.CheckHistoryAsync();
    }, TimeSpan.FromMinutes(5));

    /// <summary>Joins and leaves of several groups in one command, more groups than shards, a join after a move.</summary>
    public static void Multi(Simulator sim) => sim.RunTest(async () =>
    {
        StartReplicas(sim);
        var s = new Session(sim);
        await s.ChangeAsync(Join(1, 2, 3));
        await s.ChangeAsync(Join(4, 5, 6));
        await s.ChangeAsync(ControllerCommand.Leave(1, 5));
        await s.RejectedAsync(Join(14, 2), ControllerError.GroupExists);
        await s.RejectedAsync(ControllerCommand.Leave(2, 99), ControllerError.NoSuchGroup);
        var crowded = await s.ChangeAsync(Join(7, 8, 9, 10, 11, 12, 13)); // 11 groups, 10 shards
        Check(crowded.Groups.Count == 11 && crowded.Shards.Distinct().Count() == ShardCount, "with more groups than shards, a group holds two");
        await s.ChangeAsync(ControllerCommand.Leave(2, 3, 4, 6, 7, 8, 9));
        await s.ChangeAsync(ControllerCommand.Move(0, 10));
        await s.ChangeAsync(ControllerCommand.Move(1, 10));
        await s.ChangeAsync(Join(1, 2)); // after moves: rebalanced, not minimal
        await s.RejectedAsync(ControllerCommand.Leave(1, 2, 10, 11, 12, 13), ControllerError.LastGroup);
        Check(s.Latest.Groups.Keys.SequenceEqual([1, 2, 10, 11, 12, 13]), $"groups at the end: {string.Join(",", s.Latest.Groups.Keys)}");
        await s.CheckHistoryAsync();
    }, TimeSpan.FromMinutes(5));

    /// <summary>Groups join one at a time up to more groups than shards, then leave one at a time in a random order,
    /// then some join again: each join moves at most ceil(S/groups) shards, all towards the new group; each leave moves
    /// only the leaving group's shards (checked in <see cref="Session.ChangeAsync"/>).</summary>
    public static void MinimalMoves(Simulator sim) => sim.RunTest(async () =>
    {
        StartReplicas(sim);
        var s = new Session(sim);
        const int groups = 12;
        for (var g = 1; g <= groups; g++) await s.ChangeAsync(Join(g));
        var order = Enumerable.Range(1, groups).OrderBy(_ => sim.Random.Next()).ToList();
        foreach (var g in order.Take(groups - 1)) await s.ChangeAsync(ControllerCommand.Leave(g));
        foreach (var g in order.Take(4)) await s.ChangeAsync(Join(g));
        await s.CheckHistoryAsync();
    }, TimeSpan.FromMinutes(5));

    /// <summary>Three clients issue random joins, leaves and moves at once while replicas crash over an unreliable
    /// network; some answers are lost. Every replica ends with the same history; each configuration is valid, the ones
    /// that changed the groups are balanced, and replaying the commands the history implies on a fresh controller
    /// gives the same history (the rebalancer is a function of the commands alone).</summary>
    public static void Determinism(Simulator sim) => sim.RunTest(async () =>
    {
        StartReplicas(sim);
        var done = false;
        var crasher = CrashNowAndThenAsync(sim, () => done);
        var oks = 0;
        var clients = Enumerable.Range(0, 3).Select(async _ =>
        {
            for (var op = 0; op < 15; op++)
            {
                var gid = sim.Random.Next(1, 9);
                var roll = sim.Random.Next(10);
                var command = roll < 4 ? Join(gid) : roll < 7 ? ControllerCommand.Leave(gid) : ControllerCommand.Move(sim.Random.Next(ShardCount), gid);
                var reply = await TrySubmitAsync(sim, command);
                if (reply is { Error: ControllerError.Ok }) oks++;
                Check(reply is null or { Error: ControllerError.Ok or ControllerError.GroupExists or ControllerError.NoSuchGroup or ControllerError.LastGroup },
                    $"a command answered {reply?.Error}");
                await sim.Delay(TimeSpan.FromMilliseconds(sim.Random.Next(0, 100)));
            }
        }).ToList();
        await Task.WhenAll(clients);
        done = true;
        await crasher;
        sim.Network.Reliable = true;
        var latest = (await new Session(sim).QueryAsync(-1)).Num;
        Check(latest >= oks && latest >= 5, $"{oks} commands answered Ok, latest configuration {latest}: too few changes to test anything");
        var history = await AgreedHistoryAsync(sim, latest + 1);
        var replay = new ShardController(ShardCount);
        for (var n = 1; n < history.Count; n++)
        {
            var (prev, next) = (history[n - 1], history[n]);
            CheckValid(next);
            if (!prev.Groups.Keys.SequenceEqual(next.Groups.Keys)) CheckBalanced(next);
            var replayed = replay.Execute(ControllerCommand.Decode(ImpliedCommand(prev, next)));
            Check(replayed.Error == ControllerError.Ok && replayed.Config!.ToConfig().SameAs(next), $"replaying the commands does not give configuration {n}");
        }
    }, TimeSpan.FromMinutes(5));

    private static byte[] Join(params int[] gids) => ControllerCommand.Join(gids.ToDictionary(g => g, g => new[] { $"g{g}:7000" }));

    private static async Task CrashNowAndThenAsync(Simulator sim, Func<bool> done)
    {
        while (!done())
        {
            await sim.Delay(TimeSpan.FromMilliseconds(sim.Random.Next(300, 800)));
            var victim = sim.Random.Next(1, Servers + 1);
            sim.Node(victim).Crash();
            await sim.Delay(TimeSpan.FromMilliseconds(300));
            sim.Node(victim).Restart();
        }
    }

    /// <summary>The command that turns <paramref name="prev"/> into <paramref name="next"/>: groups added (join),
    /// groups removed (leave), or at most one shard reassigned (move).</summary>
    private static byte[] ImpliedCommand(ShardConfig prev, ShardConfig next)
    {
        var added = next.Groups.Keys.Except(prev.Groups.Keys).ToList();
        var removed = prev.Groups.Keys.Except(next.Groups.Keys).ToArray();
        Check(added.Count == 0 || removed.Length == 0, $"configuration {next.Num} both adds and removes groups");
        if (added.Count > 0) return ControllerCommand.Join(added.ToDictionary(g => g, g => next.Groups[g].ToArray()));
        if (removed.Length > 0) return ControllerCommand.Leave(removed);
        var moved = Enumerable.Range(0, ShardCount).Where(k => prev.Shards[k] != next.Shards[k]).ToList();
        Check(moved.Count <= 1, $"configuration {next.Num} moves {moved.Count} shards without changing the groups");
        var shard = moved.Count == 1 ? moved[0] : 0;
        return ControllerCommand.Move(shard, next.Shards[shard]);
    }

    /// <summary>Waits until every replica holds <paramref name="count"/> configurations, checks they hold the same
    /// ones, and returns them.</summary>
    private static async Task<IReadOnlyList<ShardConfig>> AgreedHistoryAsync(Simulator sim, int count)
    {
        var deadline = sim.Now + TimeSpan.FromSeconds(20);
        while (Enumerable.Range(1, Servers).Any(i => Controller(sim, i)?.Configs.Count != count))
        {
            Check(sim.Now < deadline, $"replicas hold {string.Join(", ", Enumerable.Range(1, Servers).Select(i => Controller(sim, i)?.Configs.Count))} configurations, expected {count}");
            await sim.Delay(TimeSpan.FromMilliseconds(50));
        }
        var reference = Controller(sim, 1)!.Configs.ToList();
        foreach (var i in Enumerable.Range(2, Servers - 1))
            for (var n = 0; n < count; n++)
                Check(reference[n].SameAs(Controller(sim, i)!.Configs[n]), $"server {i} disagrees on configuration {n}");
        return reference;
    }

    /// <summary>Every shard is assigned to a group of the configuration while any group exists.</summary>
    private static void CheckValid(ShardConfig config) =>
        Check(config.Groups.Count == 0 ? config.Shards.All(g => g == 0) : config.Shards.All(config.Groups.ContainsKey),
            $"configuration {config.Num} assigns a shard to a group it does not have ({string.Join(",", config.Shards)})");

    private static void CheckBalanced(ShardConfig config)
    {
        var counts = config.Groups.Keys.Select(g => config.ShardsOf(g).Count()).ToList();
        Check(counts.Count == 0 || counts.Max() - counts.Min() <= 1, $"configuration {config.Num} is unbalanced: {string.Join(",", config.Shards)}");
    }

    /// <summary>Submits until one replica answers; null when the outcome is unknown (the command may yet apply).</summary>
    private static async Task<ControllerReply?> TrySubmitAsync(Simulator sim, byte[] command)
    {
        var deadline = sim.Now + TimeSpan.FromSeconds(30);
        var server = sim.Random.Next(1, Servers + 1);
        while (sim.Now < deadline)
        {
            for (var k = 0; k < Servers; k++, server = server % Servers + 1)
            {
                var node = sim.Node(server);
                if (!node.IsUp || node.Service is not ReplicatedStateMachine) continue;
                SubmitResult result;
                try { result = await node.InvokeAsync(() => ((ReplicatedStateMachine)node.Service!).SubmitAsync(command)); }
                catch (NodeCrashedException) { return null; }
                if (result.IsOk) return ControllerReply.Decode(result.Result.Span);
                if (!result.DefinitelyNotApplied) return null;
            }
            await sim.Delay(TimeSpan.FromMilliseconds(50));
        }
        throw new ShardScenarioException("no server applied the command within 30 s");
    }

    /// <summary>One client issuing commands one at a time, remembering every configuration it saw created, and
    /// crashing a replica after every fourth change.</summary>
    private sealed class Session(Simulator sim)
    {
        private readonly List<ShardConfig> _seen = [ShardConfig.Initial(ShardCount)];

        public ShardConfig Latest => _seen[^1];

        public async Task<ShardConfig> QueryAsync(int num)
        {
            for (var attempt = 0; attempt < 50; attempt++)
                if (await TrySubmitAsync(sim, ControllerCommand.Query(num)) is { } reply)
                {
                    Check(reply.Error == ControllerError.Ok, $"query {num} answered {reply.Error}");
                    return reply.Config!.ToConfig();
                }
            throw new ShardScenarioException($"query {num} never got an answer");
        }

        /// <summary>Applies a change exactly once: after an unknown outcome, the latest configuration says whether it
        /// applied (only this client changes anything). Checks it created the next configuration, valid, balanced
        /// after a join or leave, and, when the previous one was balanced, with the fewest moves.</summary>
        public async Task<ShardConfig> ChangeAsync(byte[] command)
        {
            var prev = Latest;
            var reply = await ApplyOnceAsync(command);
            Check(reply.Error == ControllerError.Ok && reply.Config!.Num == _seen.Count, $"a change gave {reply.Error}, configuration {reply.Config?.Num}, expected {_seen.Count}");
            var next = reply.Config!.ToConfig();
            CheckValid(next);
            var op = ControllerCommand.Decode(command);
            if (op.Op != ControllerCommand.MoveOp) CheckBalanced(next);
            var moved = Enumerable.Range(0, ShardCount).Where(k => prev.Shards[k] != next.Shards[k]).ToList();
            var prevBalanced = prev.Groups.Count == 0 || prev.Groups.Keys.Select(g => prev.ShardsOf(g).Count()).Max() - prev.Groups.Keys.Select(g => prev.ShardsOf(g).Count()).Min() <= 1;
            if (op.Op == ControllerCommand.JoinOp && prevBalanced && prev.Groups.Count > 0)
            {
                var bound = op.Groups!.Count * ((ShardCount + next.Groups.Count - 1) / next.Groups.Count);
                Check(moved.All(k => op.Groups.ContainsKey(next.Shards[k])), $"join of {string.Join(",", op.Groups.Keys)} moved a shard between old groups: {string.Join(",", prev.Shards)} -> {string.Join(",", next.Shards)}");
                Check(moved.Count <= bound, $"join of {string.Join(",", op.Groups.Keys)} moved {moved.Count} shards, at most {bound} needed");
            }
            if (op.Op == ControllerCommand.LeaveOp)
            {
                var gids = op.Gids!;
                Check(gids.All(g => !next.ShardsOf(g).Any() && !next.Groups.ContainsKey(g)), "a group that left still owns a shard");
                if (prevBalanced)
                    Check(moved.All(k => gids.Contains(prev.Shards[k])), $"leave of {string.Join(",", gids)} moved a shard of a group that stayed: {string.Join(",", prev.Shards)} -> {string.Join(",", next.Shards)}");
            }
            _seen.Add(next);
            if (_seen.Count % 4 == 0)
            {
                var victim = sim.Random.Next(1, Servers + 1);
                sim.Node(victim).Crash();
                await sim.Delay(TimeSpan.FromMilliseconds(300));
                sim.Node(victim).Restart();
            }
            return next;
        }

        /// <summary>A command the controller must refuse with <paramref name="expected"/>, creating no configuration.</summary>
        public async Task RejectedAsync(byte[] command, ControllerError expected)
        {
            var reply = await ApplyOnceAsync(command);
            Check(reply.Error == expected, $"expected {expected}, got {reply.Error}");
            Check((await QueryAsync(-1)).SameAs(Latest), "a refused command created a configuration");
        }

        /// <summary>Queries every configuration created again (and past the latest) and compares them with what the
        /// changes returned, then with every replica's copy.</summary>
        public async Task CheckHistoryAsync()
        {
            for (var n = 0; n < _seen.Count; n++)
                Check((await QueryAsync(n)).SameAs(_seen[n]), $"configuration {n} changed after it was created");
            Check((await QueryAsync(_seen.Count + 5)).SameAs(Latest), "a query past the latest number did not give the latest");
            var replicas = await AgreedHistoryAsync(sim, _seen.Count);
            for (var n = 0; n < _seen.Count; n++)
                Check(replicas[n].SameAs(_seen[n]), $"the replicas' configuration {n} is not the one the client was given");
        }

        private async Task<ControllerReply> ApplyOnceAsync(byte[] command)
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                if (await TrySubmitAsync(sim, command) is { } reply) return reply;
                var latest = await QueryAsync(-1);
                if (latest.Num > Latest.Num) return new ControllerReply { Config = ShardConfigData.From(latest) };
            }
            throw new ShardScenarioException("a change never got an answer");
        }
    }
}
