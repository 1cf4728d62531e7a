using System.Diagnostics;
using Flotilla.Server.Protos;

namespace Flotilla.Server.Cluster;

/// <summary>Why a membership command failed, for its exit code: a member the file does not list (usage), no leader
/// or member reachable (unavailable), or the change refused / timed out (failed). The message is one line.</summary>
public enum MemberChangeFailure { Usage, Unavailable, Failed }

public sealed class MemberChangeException(string message, MemberChangeFailure failure) : Exception(message)
{
    public MemberChangeFailure Failure { get; } = failure;
}

/// <summary>What a membership command did: the member added (or null), the one removed (or 0), and the membership in force.</summary>
public sealed record MemberChangeReport(string Action, ClusterMember? Added, int Removed, string Membership);

public sealed record MemberChangeOptions
{
    /// <summary>How long a new member has to answer its Admin service after its launch.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a new learner has to catch up; past it the learner is removed again and the command fails.</summary>
    public TimeSpan CatchUpTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long to look for a leader (an election may be under way) and to retry a busy leader.</summary>
    public TimeSpan LeaderTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Entries a learner may lag the leader's log and be promoted.</summary>
    public ulong MaxLag { get; init; } = FlotillaServer.DefaultMaxLag;

    /// <summary>How long to wait for another cluster command to let go of cluster.json's lock (<see cref="ClusterFileLock"/>)
    /// before failing with "another cluster command holds FILE.lock".</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Tests: runs once the new member is a learner, with its process id (e.g. to stop it: a member that never catches up).</summary>
    public Func<int, Task>? AfterLearnerAdded { get; init; }
}

/// <summary>
/// <c>flotilla cluster add|remove|replace</c> on a local cluster (cluster.json): every change goes through Raft on the
/// leader (Admin RPCs), cluster.json follows, and <c>cluster start</c>'s supervisor adopts the change from the file.
/// A new member gets an id never used before (<see cref="ClusterFile.NextMemberId"/>), free loopback ports, a fresh
/// data directory, and starts with <c>--initial-state join</c>; it is added as a learner, promoted (or, replacing,
/// swapped in by one joint change) only once it has caught up. One command at a time per cluster.json
/// (<see cref="ClusterFileLock"/>): a second one waits for the first, up to <see cref="MemberChangeOptions.LockTimeout"/>.
/// </summary>
public static class MemberChanges
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(12);

    public static async Task<MemberChangeReport> AddAsync(string path, MemberChangeOptions options, CancellationToken ct = default)
    {
        using var held = await LockAsync(path, options, ct);
        var (file, token) = Load(path);
        var (member, process) = await LaunchNewMemberAsync(path, file, token, options, ct);
        await AddLearnerAndCatchUpAsync(path, member, process, token, options, ct);
        var reply = await WhileCatchingUpAsync(process, options,
            () => OnLeaderAsync(path, token, options, (admin, t) => admin.TryPromoteAsync(member.Id, options.MaxLag, CallTimeout, t), ct), ct);
        if (!reply.Ok) throw await UndoAsync(path, member, process, token, $"promoting n{member.Id} failed: {reply.Message}");
        var added = Record(path, member, removed: 0);
        return new MemberChangeReport("add", added, 0, reply.Membership);
    }

    /// <summary>Replaces member <paramref name="id"/> (whose disk is gone, or that is simply to go): a new member under
    /// a new id joins as a learner and catches up, then one joint change makes it a voter and removes <paramref name="id"/>;
    /// <paramref name="id"/>'s process is stopped if it still runs.</summary>
    public static async Task<MemberChangeReport> ReplaceAsync(string path, int id, MemberChangeOptions options, CancellationToken ct = default)
    {
        using var held = await LockAsync(path, options, ct);
        var (file, token) = Load(path);
        var old = Find(file, path, id);
        var (member, process) = await LaunchNewMemberAsync(path, file, token, options, ct);
        await AddLearnerAndCatchUpAsync(path, member, process, token, options, ct);
        var reply = await WhileCatchingUpAsync(process, options,
            () => OnLeaderAsync(path, token, options, (admin, t) => admin.TryChangeAsync([member.Id], [id], options.MaxLag, CallTimeout, t), ct), ct);
        if (!reply.Ok) throw await UndoAsync(path, member, process, token, $"replacing n{id} by n{member.Id} failed: {reply.Message}");
        await StopQuietlyAsync(old, token);
        var added = Record(path, member, removed: id);
        return new MemberChangeReport("replace", added, id, reply.Membership);
    }

    public static async Task<MemberChangeReport> RemoveAsync(string path, int id, MemberChangeOptions options, CancellationToken ct = default)
    {
        using var held = await LockAsync(path, options, ct);
        var (file, token) = Load(path);
        var member = Find(file, path, id);
        var reply = await OnLeaderAsync(path, token, options, (admin, t) => admin.TryRemoveAsync(id, CallTimeout, t), ct);
        if (!reply.Ok) throw new MemberChangeException($"removing n{id} failed: {reply.Message}", MemberChangeFailure.Failed);
        await StopQuietlyAsync(member, token);
        Record(path, null, removed: id);
        return new MemberChangeReport("remove", null, id, reply.Membership);
    }

    /// <summary>Holds cluster.json's lock for the whole command: a change reads the file (the next id, the members),
    /// takes minutes to catch a member up, and writes the file again; a second command in between would reserve the
    /// same id or write back a member list without the first one's change. The file is checked first, so a wrong path
    /// is its own error and leaves no lock file behind.</summary>
    private static async Task<ClusterFileLock> LockAsync(string path, MemberChangeOptions options, CancellationToken ct)
    {
        ClusterFile.Load(path);
        try { return await ClusterFileLock.AcquireAsync(path, options.LockTimeout, ct); }
        catch (ClusterFileLockedException e) { throw new MemberChangeException(e.Message, MemberChangeFailure.Failed); }
    }

    private static (ClusterFile File, string? Token) Load(string path)
    {
        var file = ClusterFile.Load(path).RequireKind(ClusterKinds.ReplicatedKv, path);
        if (file.Members.Count == 0 || file.Members.Any(m => m.Command is not { Count: > 0 } || m.AdminAddress is null))
            throw new ClusterFileException($"cluster file {path}: membership changes need members with admin addresses and command lines (a file 'flotilla cluster start' wrote)");
        if (file.Members.Any(m => MemberCommandLine.Value(m.Command!, "--initial-voters") is null))
            throw new ClusterFileException($"cluster file {path}: its members were started without --initial-voters (an older flotilla); restart the cluster to change its membership");
        return (file, MemberRestart.AdminToken(file, path));
    }

    private static ClusterMember Find(ClusterFile file, string path, int id) => file.Members.FirstOrDefault(m => m.Id == id)
        ?? throw new MemberChangeException($"n{id} is not a member of the cluster (members: {string.Join(", ", file.Members.Select(m => $"n{m.Id}"))})", MemberChangeFailure.Usage);

    /// <summary>Reserves a new id in cluster.json (so it is never handed out again, whatever happens next), picks free
    /// ports, and starts the member on an empty data directory as a joining non-member.</summary>
    private static async Task<(ClusterMember Member, Process Process)> LaunchNewMemberAsync(string path, ClusterFile file, string? token,
        MemberChangeOptions options, CancellationToken ct)
    {
        var id = Math.Max(file.NextMemberId, await HighestLiveIdAsync(file.Members, token, ct) + 1);
        (file with { NextId = id + 1 }).Save(path);
        var template = file.Members.OrderBy(m => m.Id).First();
        var tcp = template.PeerAddress is not null;
        var ports = LoopbackPorts.PickFree(tcp ? 4 : 3);
        var directory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $"node-{id}");
        if (Membership.EmptyDiskRule.HasRaftState(directory))
            throw new MemberChangeException($"{directory} already holds Raft state; refusing to reuse it for a new member", MemberChangeFailure.Failed);
        Directory.CreateDirectory(directory);
        var member = new ClusterMember
        {
            Id = id,
            Address = $"http://127.0.0.1:{ports[0]}",
            PeerAddress = tcp ? $"tcp://127.0.0.1:{ports[1]}" : null,
            AdminAddress = $"http://127.0.0.1:{ports[^2]}",
            ConsoleAddress = $"http://127.0.0.1:{ports[^1]}",
            DataDirectory = directory,
            LogFile = Path.Combine(directory, "server.log"),
        };
        member = member with { Command = MemberCommandLine.For(template.Command!, member, [.. file.Members, member]) };
        var process = MemberRestart.LaunchDetached(MemberCommandLine.With(member.Command!, "--initial-state", "join"), member.LogFile);
        member = member with { Pid = process.Id };
        try
        {
            await MemberRestart.WaitReadyAsync(member, process, token, options.ReadyTimeout, ct);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            await StopQuietlyAsync(member, token);
            throw new MemberChangeException($"new member n{id} did not start: {e.Message}", MemberChangeFailure.Failed);
        }
        return (member, process);
    }

    /// <summary>Adds the member as a learner and waits until the leader says it holds the log to within the allowed lag.
    /// A member that does not catch up in time is removed again (and stopped): the cluster is left as it was.</summary>
    private static async Task AddLearnerAndCatchUpAsync(string path, ClusterMember member, Process process, string? token,
        MemberChangeOptions options, CancellationToken ct)
    {
        var addresses = new MemberAddresses
        {
            Id = member.Id, Client = member.Address, Peer = member.PeerAddress ?? "", Admin = member.AdminAddress ?? "", Console = member.ConsoleAddress ?? "",
        };
        MembershipReply reply;
        try { reply = await OnLeaderAsync(path, token, options, (admin, t) => admin.TryAddLearnerAsync(addresses, CallTimeout, t), ct); }
        catch (MemberChangeException)
        {
            await StopQuietlyAsync(member, token);
            throw;
        }
        if (!reply.Ok)
        {
            await StopQuietlyAsync(member, token);
            throw new MemberChangeException($"adding n{member.Id} as a learner failed: {reply.Message}", MemberChangeFailure.Failed);
        }
        if (options.AfterLearnerAdded is { } hook) await hook(process.Id);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw await UndoAsync(path, member, process, token, $"new member n{member.Id} exited (code {process.ExitCode}) before it caught up: {LocalCluster.LastError(member.LogFile)}");
            if (await CaughtUpAsync(path, token, member.Id, options.MaxLag, ct)) return;
            if (deadline.Elapsed > options.CatchUpTimeout)
                throw await UndoAsync(path, member, process, token, $"new member n{member.Id} did not catch up within {options.CatchUpTimeout.TotalSeconds:0} s");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Runs the promotion until the leader does not answer "not_caught_up": under a steady write load the
    /// learner that was within the allowed lag a moment ago can be a batch behind when the leader checks again (seen
    /// in bench/membership.sh), which is no reason to give up while the catch-up time lasts.</summary>
    private static async Task<MembershipReply> WhileCatchingUpAsync(Process process, MemberChangeOptions options,
        Func<Task<MembershipReply>> promote, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var reply = await promote();
            if (reply.Status != "not_caught_up" || deadline.Elapsed > options.CatchUpTimeout || process.HasExited) return reply;
            await Task.Delay(50, ct);
        }
    }

    private static async Task<bool> CaughtUpAsync(string path, string? token, int id, ulong maxLag, CancellationToken ct)
    {
        foreach (var member in ClusterFile.Load(path).Members)
        {
            using var admin = Admin(member, token);
            if (await admin.TryProgressAsync(TimeSpan.FromSeconds(2), ct) is { Leader: true } progress)
                return progress.Members.FirstOrDefault(m => m.Id == id) is { } p && p.Match + maxLag >= progress.LastIndex;
        }
        return false;
    }

    /// <summary>Takes a learner that will not make it out again (through Raft, so the cluster is as before) and stops
    /// its process; returns the error to throw, saying the cluster was left unchanged.</summary>
    private static async Task<MemberChangeException> UndoAsync(string path, ClusterMember member, Process process, string? token, string why)
    {
        var undone = "it was removed again; the cluster is unchanged";
        try
        {
            var reply = await OnLeaderAsync(path, token, new MemberChangeOptions(), (admin, t) => admin.TryRemoveAsync(member.Id, CallTimeout, t), CancellationToken.None);
            if (!reply.Ok) undone = $"removing it again failed ({reply.Message}): remove it with 'flotilla cluster remove {member.Id}'";
        }
        catch (MemberChangeException e)
        {
            undone = $"removing it again failed ({e.Message})";
        }
        await StopQuietlyAsync(member, token);
        process.Dispose();
        return new MemberChangeException($"{why}; {undone}", MemberChangeFailure.Failed);
    }

    /// <summary>Sends <paramref name="call"/> to the leader, finding it again after a "not the leader" and retrying a
    /// busy one, until <see cref="MemberChangeOptions.LeaderTimeout"/>. Returns the leader's final answer.</summary>
    private static async Task<MembershipReply> OnLeaderAsync(string path, string? token, MemberChangeOptions options,
        Func<AdminClient, CancellationToken, Task<MembershipReply?>> call, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        var last = "no member answered";
        while (true)
        {
            var members = ClusterFile.Load(path).Members;
            var leader = await FindLeaderAsync(members, token, ct);
            if (leader is not null)
            {
                using var admin = Admin(leader, token);
                var reply = await call(admin, ct);
                if (reply is null)
                {
                    if (admin.LastError is Grpc.Core.StatusCode.Unauthenticated or Grpc.Core.StatusCode.PermissionDenied)
                        throw new MemberChangeException($"n{leader.Id} refused the admin token ({admin.LastError})", MemberChangeFailure.Failed);
                    last = $"n{leader.Id} did not answer ({admin.LastError})";
                }
                else if (reply.Status is not ("not_leader" or "busy" or "lost")) return reply;
                else if (reply.Status == "busy" && deadline.Elapsed > options.LeaderTimeout) return reply;
                else last = reply.Message;
            }
            else last = "no member leads right now (an election is under way?)";
            if (deadline.Elapsed > options.LeaderTimeout)
                throw new MemberChangeException($"{last} (tried for {options.LeaderTimeout.TotalSeconds:0} s)", MemberChangeFailure.Unavailable);
            await Task.Delay(200, ct);
        }
    }

    /// <summary>The highest id in the membership the members report (ids added through the Admin RPCs directly are not
    /// in cluster.json's <c>next_id</c>); 0 if none answers.</summary>
    private static async Task<int> HighestLiveIdAsync(IReadOnlyList<ClusterMember> members, string? token, CancellationToken ct)
    {
        var highest = 0;
        foreach (var member in members)
        {
            using var admin = Admin(member, token);
            if (await admin.TryStatusAsync(TimeSpan.FromSeconds(2), ct) is { } s)
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(s.Membership, "[0-9]+"))
                    if (int.TryParse(m.Value, out var id)) highest = Math.Max(highest, id);
        }
        return highest;
    }

    private static async Task<ClusterMember?> FindLeaderAsync(IReadOnlyList<ClusterMember> members, string? token, CancellationToken ct)
    {
        (ClusterMember Member, ulong Term)? best = null;
        foreach (var member in members)
        {
            using var admin = Admin(member, token);
            if (await admin.TryStatusAsync(TimeSpan.FromSeconds(2), ct) is { Role: "Leader" } s && (best is null || s.Term > best.Value.Term))
                best = (member, s.Term);
        }
        return best?.Member;
    }

    /// <summary>Writes the new membership into cluster.json: the added member in, the removed one out, endpoints and every
    /// member's command line (its --members list) rewritten.</summary>
    private static ClusterMember? Record(string path, ClusterMember? added, int removed)
    {
        var file = ClusterFile.Load(path);
        var members = file.Members.Where(m => m.Id != removed && m.Id != added?.Id).ToList();
        if (added is not null) members.Add(added);
        members = members.OrderBy(m => m.Id).Select(m => m with { Command = m.Command is { } c ? MemberCommandLine.WithMembers(c, members) : null }).ToList();
        (file with { Members = members, Endpoints = members.Select(m => m.Address).ToList() }).Save(path);
        return added is null ? null : members.First(m => m.Id == added.Id);
    }

    /// <summary>Stops a member's process if it runs (cleanly, else kill -9); a member already gone is fine.</summary>
    private static async Task StopQuietlyAsync(ClusterMember member, string? token)
    {
        try { await MemberRestart.StopAsync(member, member.Command?[0] ?? "flotilla", token); }
        catch (InvalidOperationException) { }
    }

    private static AdminClient Admin(ClusterMember member, string? token) => new(new Uri(member.AdminAddress ?? member.Address), token);
}
