using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Server.Membership;

namespace Flotilla.Server;

/// <summary>What a membership operation on the leader came to: <c>Status</c> is "applied", "not_leader", "busy" (the
/// leader is transferring leadership or has too many uncommitted entries: retry shortly), "pending" (another change
/// is not applied yet), "refused" (invalid: the one-line <c>Message</c> says why), "not_caught_up", "lost" or "unknown".</summary>
public sealed record MembershipResult(bool Ok, string Status, string Message, int Leader, string Membership, ulong Index);

// Membership changes of the server's group, run on the node's scheduler (the admin RPCs call these): add a learner
// with its addresses in the change, promote it once caught up, remove a member, one joint change for a replacement.
public sealed partial class FlotillaServer
{
    /// <summary>How far (entries) a learner may lag the leader's last index and still be promoted, unless told otherwise.</summary>
    public const ulong DefaultMaxLag = 100;

    /// <summary>A bound on every change, whatever the caller's deadline: no admin call waits forever.</summary>
    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The address books kept in step with the membership.</summary>
    public MembershipDirectory Directory { get; private init; } = null!;

    public Task<MembershipResult> AddLearnerAsync(MemberEndpoint member, CancellationToken ct) => OnLeader(raft =>
    {
        if (member.Invalid() is { } bad) return Refused(raft, bad);
        var id = new NodeId(member.Id);
        if (raft.Membership.Contains(id)) return Refused(raft, $"n{member.Id} is already a member ({raft.Membership})");
        if (Directory.Clash(member) is { } other)
            return Refused(raft, $"an address of n{member.Id} ({string.Join(", ", member.Authorities().Intersect(other.Authorities(), StringComparer.OrdinalIgnoreCase))}) is already n{other.Id}'s");
        return null;
    }, () => ConfChange.AddLearner(new NodeId(member.Id)) with { Context = MemberAddressBook.Encode([member]) }, ct);

    public Task<MembershipResult> PromoteAsync(int id, ulong maxLag, CancellationToken ct) => OnLeader(raft =>
        raft.Membership.IsLearner(new NodeId(id)) ? CaughtUp(raft, id, maxLag) : Refused(raft, $"n{id} is not a learner ({raft.Membership})"),
        () => ConfChange.AddVoter(new NodeId(id)), ct);

    public Task<MembershipResult> RemoveAsync(int id, CancellationToken ct) => OnLeader(raft =>
        raft.Membership.Contains(new NodeId(id)) ? null : Refused(raft, $"n{id} is not a member ({raft.Membership})"),
        () => ConfChange.Remove(new NodeId(id)), ct);

    /// <summary>One joint change: each of <paramref name="addVoters"/> (a caught-up learner) becomes a voter and each of
    /// <paramref name="remove"/> leaves; the leader leaves the joint config by itself.</summary>
    public Task<MembershipResult> ChangeAsync(IReadOnlyList<int> addVoters, IReadOnlyList<int> remove, ulong maxLag, CancellationToken ct) => OnLeader(raft =>
    {
        if (addVoters.Count + remove.Count == 0) return Refused(raft, "the change names no member");
        if (addVoters.Intersect(remove).FirstOrDefault() is var both and > 0) return Refused(raft, $"n{both} is both added and removed");
        foreach (var id in addVoters)
        {
            if (!raft.Membership.IsLearner(new NodeId(id))) return Refused(raft, $"n{id} is not a learner; add it as one first ({raft.Membership})");
            if (CaughtUp(raft, id, maxLag) is { } behind) return behind;
        }
        foreach (var id in remove)
            if (!raft.Membership.Contains(new NodeId(id))) return Refused(raft, $"n{id} is not a member ({raft.Membership})");
        return null;
    }, () => new ConfChange(ConfChangeTransition.JointImplicit,
        addVoters.Select(id => new ConfChangeSingle(ConfChangeType.AddVoter, new NodeId(id)))
            .Concat(remove.Select(id => new ConfChangeSingle(ConfChangeType.Remove, new NodeId(id)))).ToList()), ct);

    /// <summary>The leader's view of each member's replication: (leads, last index, members).</summary>
    public Task<(bool Leader, ulong LastIndex, IReadOnlyList<PeerProgress> Members)> ProgressAsync() => Context.InvokeAsync(() =>
    {
        var raft = Replica.Raft;
        var leads = !Replica.IsStopped && raft.Role == RaftRole.Leader;
        return Task.FromResult((leads, raft.LastIndex, leads ? raft.Progress() : (IReadOnlyList<PeerProgress>)[]));
    });

    private MembershipResult? CaughtUp(RaftNode raft, int id, ulong maxLag)
    {
        if (raft.IsCaughtUp(new NodeId(id), maxLag)) return null;
        var match = raft.Progress().FirstOrDefault(p => p.Peer.Value == id).Match;
        return new MembershipResult(false, "not_caught_up", $"n{id} is not caught up yet (it holds the log to {match}, the leader's ends at {raft.LastIndex}; at most {maxLag} behind is allowed)",
            Context.Id.Value, raft.Membership.ToString(), 0);
    }

    private static MembershipResult Refused(RaftNode raft, string why) =>
        new(false, "refused", why, raft.Leader?.Value ?? 0, raft.Membership.ToString(), 0);

    /// <summary>On the scheduler: checks the change on the leader (<paramref name="check"/> returns the refusal, or null),
    /// then proposes it and waits for it to apply here.</summary>
    private Task<MembershipResult> OnLeader(Func<RaftNode, MembershipResult?> check, Func<ConfChange> change, CancellationToken ct) =>
        Context.InvokeAsync(async () =>
        {
            var raft = Replica.Raft;
            if (Replica.IsStopped) return new MembershipResult(false, "not_leader", $"n{Context.Id.Value} is stopped", 0, raft.Membership.ToString(), 0);
            if (raft.Role != RaftRole.Leader)
            {
                var hint = raft.Leader?.Value ?? 0;
                return new MembershipResult(false, "not_leader", hint > 0 ? $"n{Context.Id.Value} does not lead (n{hint} does)" : $"n{Context.Id.Value} does not lead (no leader known)",
                    hint, raft.Membership.ToString(), 0);
            }
            if (check(raft) is { } refused) return refused;
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(ChangeTimeout);
            var outcome = await raft.ProposeConfChangeAsync(change(), bounded.Token);
            return Describe(outcome, raft);
        });

    private MembershipResult Describe(ConfChangeOutcome outcome, RaftNode raft)
    {
        var pending = outcome.Status == ConfChangeStatus.Refused && outcome.Error is { } e
                      && (e.Contains("pending", StringComparison.Ordinal) || e.Contains("in progress", StringComparison.Ordinal));
        var status = outcome.Status switch
        {
            ConfChangeStatus.Applied => "applied",
            ConfChangeStatus.NotLeader => "not_leader",
            ConfChangeStatus.Busy => "busy",
            ConfChangeStatus.Refused => pending ? "pending" : "refused",
            ConfChangeStatus.Lost => "lost",
            _ => "unknown",
        };
        var message = outcome.Status == ConfChangeStatus.Refused ? outcome.Error ?? "refused" : outcome.ToString();
        return new MembershipResult(outcome.IsApplied, status, message, outcome.LeaderHint?.Value ?? raft.Leader?.Value ?? 0,
            (outcome.Membership ?? raft.Membership).ToString(), outcome.Index);
    }
}
