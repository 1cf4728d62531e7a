using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Server.WebConsole;

/// <summary>One member's row in the console: its own status if it answered, else why not.</summary>
internal sealed record MemberRow(int Id, bool Reachable, MemberStatus? Status, string? Problem, ulong? Lag);

/// <summary>Everything one console page (or one poll of it) shows, taken at <see cref="Taken"/>.</summary>
internal sealed record ConsoleSnapshot(
    int Self, DateTimeOffset Taken, IReadOnlyList<MemberRow> Members, int? Leader, ulong? LeaderTerm,
    IReadOnlyList<ConsolePoint> Points, int ChartsFrom, ShardView? Shards);

/// <summary>
/// Takes <see cref="ConsoleSnapshot"/>s: this member's status on its scheduler, every other member's (the membership
/// in force, so added members appear and removed ones go) through
/// <c>console/status</c> over the peer transport (in parallel, each with a short deadline, so a dead member costs at
/// most that), the charts' history, and for the sharded store the shard map. Snapshots are reused for under a
/// second, so many open pages cost the cluster no more than one.
/// </summary>
internal sealed class ConsoleSnapshotSource(
    NodeContext context, Func<IReadOnlyList<int>> members, Func<bool, MemberStatus> local, ConsoleMetrics metrics, Func<ShardView?> shards)
{
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromMilliseconds(700);
    private static readonly TimeSpan ReuseFor = TimeSpan.FromMilliseconds(900);
    private readonly SemaphoreSlim _one = new(1, 1);
    private ConsoleSnapshot? _last;

    public async Task<ConsoleSnapshot> TakeAsync(CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken);
        try
        {
            if (_last is { } last && DateTimeOffset.UtcNow - last.Taken < ReuseFor) return last;
            return _last = await TakeFreshAsync();
        }
        finally { _one.Release(); }
    }

    private async Task<ConsoleSnapshot> TakeFreshAsync()
    {
        var self = context.Id.Value;
        // The members as of now (read on the scheduler with the rest): they follow membership changes.
        var (mine, shardView, current) = await context.InvokeAsync(() => Task.FromResult((local(false), shards(), members())));
        var others = current.Where(m => m != self).Select(async id => await AskAsync(id, withHistory: false)).ToList();
        var rows = new List<MemberRow> { new(self, true, mine, mine.StorageProblem, null) };
        rows.AddRange(await Task.WhenAll(others));
        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        // The leader is the one that says so in the highest term heard (an old leader cut off may still think it is).
        var leader = rows.Where(r => r.Status is { Role: "Leader" }).OrderByDescending(r => r.Status!.Term).FirstOrDefault();
        if (leader?.Status?.Followers is { } followers)
        {
            rows = rows.Select(r => followers.TryGetValue(r.Id, out var match)
                ? r with { Lag = leader.Status.LastIndex > match ? leader.Status.LastIndex - match : 0 }
                : r).ToList();
        }
        // Charts come from the leader, which serves the requests and commits; from this member when there is none.
        var (points, chartsFrom) = (metrics.History(), self);
        if (leader is not null && leader.Id != self && (await AskAsync(leader.Id, withHistory: true)).Status?.Points is { Count: > 0 } theirs)
            (points, chartsFrom) = (theirs, leader.Id);
        return new ConsoleSnapshot(self, DateTimeOffset.UtcNow, rows, leader?.Id, leader?.Status?.Term, points, chartsFrom, shardView);
    }

    private async Task<MemberRow> AskAsync(int id, bool withHistory)
    {
        var reply = await context.InvokeAsync(() => context.Transport.CallAsync(new NodeId(id), ConsoleStatusService.StatusMethod,
            withHistory ? ConsoleStatusService.WithHistory : ReadOnlyMemory<byte>.Empty, PeerTimeout, context.Time));
        if (!reply.IsOk) return new MemberRow(id, reply.Status == RpcStatus.Failed, null, reply.Status == RpcStatus.Failed ? "no console (older version?)" : Describe(reply), null);
        return MemberStatus.Decode(reply.Payload.Span) is { } status
            ? new MemberRow(id, true, status, status.StorageProblem, null)
            : new MemberRow(id, true, null, "unreadable status", null);
    }

    private static string Describe(RpcReply reply) => reply.Status switch
    {
        RpcStatus.Timeout => $"no answer within {PeerTimeout.TotalMilliseconds:0} ms",
        RpcStatus.Unavailable => "unreachable",
        _ => reply.Status.ToString().ToLowerInvariant(),
    };
}
