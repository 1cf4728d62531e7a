using Flotilla.Server;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// Puts a planned fault into effect on the real cluster and takes it away again: partitions and loss as nftables
/// rules in the namespaces, pauses as SIGSTOP/SIGCONT, kills as kill -9 and a restart on the same data directory,
/// disk faults as a restart with <see cref="StorageFaults"/> variables (and a plain restart to heal), latency and clock
/// faults through the members' control files (<see cref="RuntimeFaultControl"/>), disk-full as a ballast file on the
/// member's small disk (<see cref="NemesisDisks"/>), deleted to heal. "Leader" targets
/// are resolved when the fault starts (a random node if no leader answers). Shard moves go through the controller
/// like an operator's <c>shard move</c>, membership changes through the leader's Admin RPCs like an operator's
/// <c>cluster add|remove|replace|transfer</c> (<see cref="NemesisMembership"/>). A fault's nodes are slots, aimed at
/// the members that hold them when it starts (<see cref="NemesisCluster.MemberAt"/>).
/// </summary>
public sealed class FaultInjector(NetnsTopology network, NemesisCluster cluster, Random random, Action<string> log)
{
    private static readonly TimeSpan RestartReady = TimeSpan.FromSeconds(30);

    private readonly HashSet<Cut> _cuts = [];
    private readonly Dictionary<int, int> _loss = [];
    private readonly HashSet<int> _needRestart = [];
    private readonly RuntimeFaultControl _control = new();
    private readonly HashSet<int> _full = [];
    private readonly Dictionary<FaultFamily, int> _byFamily = [];
    private readonly NemesisMembership _membership = new(network, cluster, log);

    /// <summary>The second half of the member fault in force (the remove of an add-remove, the add of a remove-add).</summary>
    private Func<CancellationToken, Task>? _memberHeal;

    /// <summary>Membership changes completed so far (an add, a remove, a replace: one each).</summary>
    public int MembersChanged => _membership.Changes;

    /// <summary>Leadership transfers completed so far.</summary>
    public int LeadershipTransfers => _membership.Transfers;

    /// <summary>Faults put into effect so far, per family (for the report).</summary>
    public IReadOnlyDictionary<FaultFamily, int> InjectedByFamily => _byFamily;

    /// <summary>Faults put into effect so far.</summary>
    public int Injected { get; private set; }

    /// <summary>Members that died without being killed (no kill or disk fault of theirs in force): a crash is a finding.</summary>
    public List<string> UnexpectedExits { get; } = [];

    /// <summary>Notes members that are down without a fault that explains it (each one once, until restarted).</summary>
    private void CheckForCrashes()
    {
        foreach (var n in cluster.Members.Where(n => !cluster.IsRunning(n) && !_needRestart.Contains(n)).ToList())
        {
            UnexpectedExits.Add($"n{n} exited by itself ({cluster.DescribeExit(n)})");
            log($"member n{n} exited by itself: {cluster.DescribeExit(n)}");
            _needRestart.Add(n);
        }
    }

    /// <summary>Starts the fault; returns the targets it was applied to.</summary>
    public async Task<IReadOnlyList<int>> InjectAsync(PlannedFault fault, CancellationToken ct)
    {
        CheckForCrashes();
        var targets = fault.TargetsLeader ? [await cluster.LeaderAsync() ?? cluster.MemberAt(random.Next(1, cluster.Nodes + 1))]
            : fault.Nodes.Select(cluster.MemberAt).ToArray();
        log($"inject {fault.Describe(targets)}");
        switch (fault.Kind)
        {
            case FaultKind.IsolateNode or FaultKind.IsolateLeader or FaultKind.SplitMajority or FaultKind.OneWayCut or FaultKind.BridgePartition:
                _cuts.UnionWith(PartitionShapes.CutsFor(fault.Kind, targets, cluster.Members));
                await ApplyNetworkAsync();
                break;
            case FaultKind.PacketLoss:
                foreach (var n in targets) _loss[n] = fault.Amount;
                await ApplyNetworkAsync();
                break;
            case FaultKind.PauseLeader or FaultKind.PauseNode:
                foreach (var n in targets) cluster.Pause(n);
                break;
            case FaultKind.KillLeader or FaultKind.KillNode:
                foreach (var n in targets)
                {
                    await cluster.KillAsync(n);
                    _needRestart.Add(n);
                }
                break;
            case FaultKind.RollingRestart:
                // The whole fault happens here: each node down and back, in turn, waiting for it to answer.
                foreach (var n in targets)
                {
                    await cluster.KillAsync(n);
                    cluster.Launch(n);
                    await cluster.WaitReadyAsync(n, RestartReady, ct);
                }
                break;
            case FaultKind.MoveShards:
                await MoveShardsAsync(fault.Amount, ct);
                break;
            case FaultKind.SlowFsync or FaultKind.FailingFsync:
                foreach (var n in targets)
                {
                    await cluster.KillAsync(n);
                    cluster.Launch(n, fault.Kind == FaultKind.SlowFsync ? new StorageFaults(fault.Amount, 0) : new StorageFaults(0, fault.Amount));
                    // Back in plain form when the fault heals (a failing disk may not even let it start).
                    _needRestart.Add(n);
                }
                break;
            case FaultKind.SlowLink or FaultKind.SlowNode:
                _control.AddDelay(RuntimeFaultControl.LinksOf(fault.Kind, targets, cluster.Members), fault.Amount, fault.Jitter);
                ApplyControl();
                break;
            case FaultKind.ClockRate:
                foreach (var n in targets) _control.SetRate(n, fault.Amount);
                ApplyControl();
                break;
            case FaultKind.ClockJump:
                foreach (var n in targets) _control.Jump(n, fault.Amount);
                ApplyControl();
                break;
            case FaultKind.DiskFullNode or FaultKind.DiskFullLeader:
                var disks = cluster.Disks ?? throw new InvalidOperationException("disk-full faults need the members on their own small disks");
                foreach (var n in targets)
                {
                    log($"n{n}: ballast of {disks.Fill(n) >> 20} MiB fills its data directory");
                    _full.Add(n);
                }
                break;
            case FaultKind.ReplaceNode:
                await _membership.ReplaceAsync(targets[0], ct);
                break;
            case FaultKind.AddRemove:
                var added = await _membership.AddAsync(ct);
                var leaving = targets[0];
                _memberHeal = t => _membership.RemoveAsync(leaving, added, t);
                break;
            case FaultKind.RemoveAdd:
                var removed = targets[0];
                var slot = cluster.SlotOf(removed);
                await _membership.RemoveAsync(removed, null, ct);
                _memberHeal = async t =>
                {
                    var successor = await _membership.AddAsync(t);
                    if (slot is { } s) cluster.TakeSlot(s, successor);
                };
                break;
            case FaultKind.TransferLeader:
                await _membership.TransferAsync(targets[0], ct);
                break;
        }
        Injected++;
        _byFamily[PlannedFault.FamilyOf(fault.Kind)] = _byFamily.GetValueOrDefault(PlannedFault.FamilyOf(fault.Kind)) + 1;
        return targets;
    }

    /// <summary>Ends the fault started with <paramref name="targets"/>.</summary>
    public async Task HealAsync(PlannedFault fault, IReadOnlyList<int> targets, CancellationToken ct)
    {
        CheckForCrashes();
        switch (fault.Kind)
        {
            case FaultKind.IsolateNode or FaultKind.IsolateLeader or FaultKind.SplitMajority or FaultKind.OneWayCut or FaultKind.BridgePartition:
                _cuts.ExceptWith(PartitionShapes.CutsFor(fault.Kind, targets, cluster.Members));
                await ApplyNetworkAsync();
                break;
            case FaultKind.PacketLoss:
                foreach (var n in targets) _loss.Remove(n);
                await ApplyNetworkAsync();
                break;
            case FaultKind.PauseLeader or FaultKind.PauseNode:
                foreach (var n in targets) cluster.Resume(n);
                break;
            case FaultKind.KillLeader or FaultKind.KillNode or FaultKind.SlowFsync or FaultKind.FailingFsync:
                foreach (var n in targets) await RestartAsync(n, ct);
                break;
            case FaultKind.SlowLink or FaultKind.SlowNode:
                _control.RemoveDelay(RuntimeFaultControl.LinksOf(fault.Kind, targets, cluster.Members), fault.Amount, fault.Jitter);
                ApplyControl();
                break;
            case FaultKind.ClockRate:
                foreach (var n in targets) _control.ResetRate(n);
                ApplyControl();
                break;
            case FaultKind.DiskFullNode or FaultKind.DiskFullLeader:
                foreach (var n in targets) FreeDisk(n);
                break;
            case FaultKind.AddRemove or FaultKind.RemoveAdd:
                await FinishMemberChangeAsync(ct);
                break;
        }
        log($"healed {fault.Kind}; {await LeadershipAsync()}");
    }

    /// <summary>Takes every fault away: no rules, nobody paused, every member running without disk faults.</summary>
    public async Task HealAllAsync(CancellationToken ct)
    {
        CheckForCrashes();
        _cuts.Clear();
        _loss.Clear();
        await ApplyNetworkAsync();
        _control.Clear();
        ApplyControl();
        foreach (var n in _full.ToList()) FreeDisk(n);
        foreach (var n in cluster.Paused.ToList()) cluster.Resume(n);
        foreach (var n in cluster.Members.ToList())
            if (_needRestart.Contains(n) || !cluster.IsRunning(n)) await RestartAsync(n, ct);
        // Last, with every member back: the group returns to its size.
        await FinishMemberChangeAsync(ct);
    }

    private async Task FinishMemberChangeAsync(CancellationToken ct)
    {
        if (_memberHeal is not { } heal) return;
        _memberHeal = null;
        await heal(ct);
    }

    /// <summary>Who leads in which term, as the members that answer see it: evidence that a fault moved leadership.</summary>
    private async Task<string> LeadershipAsync()
    {
        var statuses = await cluster.StatusAsync(TimeSpan.FromMilliseconds(700));
        return "roles " + string.Join(" ", cluster.Members.Select(n => statuses.TryGetValue(n, out var s) ? $"n{n}={s.Role}/t{s.Term}" : $"n{n}=?"));
    }

    /// <summary>Shard moves asked of the controller (and accepted by it) so far.</summary>
    public int ShardsMoved { get; private set; }

    /// <summary>Moves <paramref name="count"/> distinct shards, drawn now, each to a group other than its owner in the
    /// latest configuration. The controller answers once the new configuration is committed; the data follows in the
    /// background (the groups pull it), so the migrations overlap whatever fault comes next. A refused or unanswered
    /// move is logged, not a failure: the controller may be unreachable at that moment, as for any client.</summary>
    private async Task MoveShardsAsync(int count, CancellationToken ct)
    {
        using var controller = cluster.Controller();
        var latest = await controller.QueryAsync(-1, TimeSpan.FromSeconds(5), ct);
        if (latest.Config is not { } config || config.Groups.Count < 2)
        {
            log($"no shard moved: {(latest.Config is null ? $"the controller did not answer ({latest.Status})" : "fewer than 2 groups")}");
            return;
        }
        var gids = config.Groups.Keys.Order().ToArray();
        var shards = Enumerable.Range(0, config.Shards.Count).ToArray();
        random.Shuffle(shards);
        foreach (var shard in shards.Take(count))
        {
            var others = gids.Where(g => g != config.Shards[shard]).ToArray();
            var to = others[random.Next(others.Length)];
            var moved = await controller.MoveAsync(shard, to, TimeSpan.FromSeconds(5), ct);
            if (moved.IsOk) ShardsMoved++;
            log(moved.IsOk ? $"shard {shard}: g{config.Shards[shard]} -> g{to} (config {moved.Config?.Num})" : $"shard {shard} -> g{to} not moved: {moved.Status} {moved.Error}");
        }
    }

    private async Task RestartAsync(int node, CancellationToken ct)
    {
        await cluster.KillAsync(node);
        cluster.Launch(node);
        _needRestart.Remove(node);
        await cluster.WaitReadyAsync(node, RestartReady, ct);
    }

    /// <summary>Every member's control file brought up to date (the members read it within 100 ms).</summary>
    private void ApplyControl()
    {
        if (!cluster.RuntimeFaults) return;
        foreach (var n in cluster.Members) cluster.WriteControl(n, _control.FileFor(n));
    }

    private void FreeDisk(int node)
    {
        cluster.Disks?.Free(node);
        _full.Remove(node);
    }

    private async Task ApplyNetworkAsync()
    {
        foreach (var n in cluster.Members)
            await network.ApplyRulesAsync(n, NftRules.For(n, _cuts, _loss.GetValueOrDefault(n), NetnsTopology.Address));
    }
}
