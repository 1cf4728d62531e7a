using System.Diagnostics;
using Flotilla.Server;
using Flotilla.Server.Protos;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// The member faults' membership changes, made as an operator's <c>flotilla cluster add|remove|replace|transfer</c>
/// makes them (<see cref="Flotilla.Server.Cluster.MemberChanges"/>), through the Admin RPCs on whichever member leads,
/// while the clients' traffic runs: a new member gets a new id, its own namespace and an empty data directory, starts
/// with <c>--initial-state join</c>, is added as a learner and promoted (or swapped in by one joint change) only once it
/// has caught up. A call that times out or meets a leadership change is retried on the leader of the moment; before
/// each retry the leader's membership is read, since the change may have been applied after all. A change that cannot
/// be made within the limits throws (<see cref="InvalidOperationException"/>, <see cref="TimeoutException"/>): a
/// cluster that cannot change its membership when no other fault is in force is a finding.
/// </summary>
public sealed class NemesisMembership(NetnsTopology network, NemesisCluster cluster, Action<string> log)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Membership changes completed (an add, a remove, a replace: one each).</summary>
    public int Changes { get; private set; }

    /// <summary>Leadership transfers the leader completed (a target that already led not counted).</summary>
    public int Transfers { get; private set; }

    /// <summary>Starts a new member, adds it as a learner, waits until it has caught up, promotes it; returns its id.</summary>
    public async Task<int> AddAsync(CancellationToken ct)
    {
        var id = await StartLearnerAsync(ct);
        var reply = await ChangeAsync($"promote n{id}", (admin, t) => admin.TryPromoteAsync(id, FlotillaServer.DefaultMaxLag, CallTimeout, t), m => m.SettledVoter(id), ct);
        Changes++;
        log($"n{id} added and promoted: {reply}");
        return id;
    }

    /// <summary>Removes <paramref name="id"/> through Raft, then stops its process; <paramref name="successor"/> takes its slot.</summary>
    public async Task RemoveAsync(int id, int? successor, CancellationToken ct)
    {
        var reply = await ChangeAsync($"remove n{id}", (admin, t) => admin.TryRemoveAsync(id, CallTimeout, t), m => m.SettledOut(id), ct);
        cluster.Left(id, successor);
        await cluster.KillAsync(id);
        Changes++;
        log($"n{id} removed and stopped: {reply}");
    }

    /// <summary>The lost-disk replacement (etcd 10166, 16220): kill -9 of <paramref name="old"/>, its data directory
    /// wiped, and a new member under a new id caught up as a learner, then swapped in for <paramref name="old"/> by one
    /// joint change; returns the new id, which takes the old one's slot.</summary>
    public async Task<int> ReplaceAsync(int old, CancellationToken ct)
    {
        await cluster.KillAsync(old);
        cluster.Wipe(old);
        log($"n{old} killed and its data directory wiped");
        var id = await StartLearnerAsync(ct);
        var reply = await ChangeAsync($"replace n{old} by n{id}", (admin, t) => admin.TryChangeAsync([id], [old], FlotillaServer.DefaultMaxLag, CallTimeout, t),
            m => m.SettledVoter(id) && m.SettledOut(old), ct);
        cluster.Left(old, id);
        Changes++;
        log($"n{old} replaced by n{id}: {reply}");
        return id;
    }

    /// <summary>Asks the leader to hand leadership to <paramref name="target"/>. A transfer the leader could not make
    /// (the target too far behind, an election in the way) is logged, not a failure: Raft may refuse it.</summary>
    public async Task TransferAsync(int target, CancellationToken ct)
    {
        if (await cluster.LeaderAsync() is not { } leader)
        {
            log($"no transfer to n{target}: no member leads right now");
            return;
        }
        if (leader == target)
        {
            log($"no transfer: n{target} already leads");
            return;
        }
        using var admin = cluster.Admin(leader);
        var reply = await admin.TryTransferLeadershipAsync(target, CallTimeout, ct);
        if (reply is { Ok: true, AlreadyLeader: false }) Transfers++;
        log(reply is null ? $"transfer n{leader} -> n{target}: no answer ({admin.LastError})"
            : reply.Ok ? $"leadership n{leader} -> n{target} (term {reply.Term})" : $"transfer n{leader} -> n{target} refused: {reply.Message}");
    }

    /// <summary>A new member in its own namespace (and small disk, with disk-full faults), started to join, added as a
    /// learner, and caught up with the leader's log.</summary>
    private async Task<int> StartLearnerAsync(CancellationToken ct)
    {
        var id = cluster.NewMemberId();
        await network.AddNodeAsync(id); // made at the start if the schedule foresaw it (NemesisSchedule.NewMembers)
        if (cluster.Disks is { } disks) await disks.MountAsync(id);
        cluster.Launch(id, state: NemesisCluster.StartState.Join);
        await cluster.WaitReadyAsync(id, ReadyTimeout, ct);
        var address = NetnsTopology.Address(id);
        var member = new MemberAddresses
        {
            Id = id,
            Client = $"http://{address}:{NemesisCluster.ClientPort}",
            Peer = $"tcp://{address}:{NemesisCluster.PeerPort}",
            Admin = $"http://{address}:{NemesisCluster.AdminPort}",
            Console = "",
        };
        await ChangeAsync($"add n{id} as a learner", (admin, t) => admin.TryAddLearnerAsync(member, CallTimeout, t), m => m.Learners.Contains(id) || m.Voters.Contains(id), ct);
        cluster.Joined(id);
        var waited = Stopwatch.StartNew();
        while (!await CaughtUpAsync(id))
        {
            if (!cluster.IsRunning(id)) throw new InvalidOperationException($"new member n{id} exited before it caught up: {cluster.DescribeExit(id)}");
            if (waited.Elapsed > CatchUpTimeout) throw new TimeoutException($"new member n{id} did not catch up within {CatchUpTimeout.TotalSeconds:0} s");
            await Task.Delay(100, ct);
        }
        log($"n{id} joined as a learner and caught up in {waited.Elapsed.TotalSeconds:0.0} s");
        return id;
    }

    private async Task<bool> CaughtUpAsync(int id)
    {
        if (await cluster.LeaderAsync() is not { } leader) return false;
        using var admin = cluster.Admin(leader);
        return await admin.TryProgressAsync(TimeSpan.FromSeconds(2)) is { Leader: true } progress
               && progress.Members.FirstOrDefault(m => m.Id == id) is { } p && p.Match + FlotillaServer.DefaultMaxLag >= progress.LastIndex;
    }

    /// <summary>Sends <paramref name="call"/> to the leader until it is applied or <paramref name="done"/> holds for the
    /// leader's membership (a timed-out attempt may have been applied; so may a change refused as already made), or
    /// <see cref="ChangeTimeout"/> passes; an applied joint change is waited out until it has left its joint state.
    /// Returns the leader's membership afterwards.</summary>
    private async Task<string> ChangeAsync(string what, Func<Flotilla.Server.Cluster.AdminClient, CancellationToken, Task<MembershipReply?>> call,
        Func<MembershipText, bool> done, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var last = "no member leads";
        var applied = false;
        while (started.Elapsed < ChangeTimeout)
        {
            if (await cluster.LeaderAsync() is { } leader)
            {
                using var admin = cluster.Admin(leader);
                if (await admin.TryStatusAsync(CallTimeout, ct) is { Role: "Leader" } status && done(MembershipText.Parse(status.Membership)))
                    return status.Membership;
                // Applied, but not settled yet (a joint change leaves its joint state by itself): wait, do not ask again.
                if (applied)
                {
                    await Task.Delay(50, ct);
                    continue;
                }
                var reply = await call(admin, ct);
                applied = reply is { Ok: true };
                last = reply is null ? $"n{leader} did not answer ({admin.LastError})" : $"n{leader}: {reply.Status}: {reply.Message}";
                // Refused against the membership in force, and not already made: retrying will not help.
                if (reply is { Status: "refused" } && !(await SettledAsync(done)))
                    throw new InvalidOperationException($"{what} refused: {reply.Message}");
            }
            await Task.Delay(200, ct);
        }
        throw new TimeoutException($"{what} not done within {ChangeTimeout.TotalSeconds:0} s (last: {last})");
    }

    private async Task<bool> SettledAsync(Func<MembershipText, bool> done)
    {
        if (await cluster.LeaderAsync() is not { } leader) return false;
        using var admin = cluster.Admin(leader);
        return await admin.TryStatusAsync(CallTimeout) is { } status && done(MembershipText.Parse(status.Membership));
    }
}
