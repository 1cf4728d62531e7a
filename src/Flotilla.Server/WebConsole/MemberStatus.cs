using System.Text.Json;
using Flotilla.Raft;
using Flotilla.Rsm;

namespace Flotilla.Server.WebConsole;

/// <summary>
/// What one member tells the console about itself (the console asks every member over the peer transport, see
/// <see cref="ConsoleStatusService"/>). On the leader, <see cref="Followers"/> holds the highest log index known
/// replicated on each follower, from which the console shows replication lag; <see cref="Points"/> carries the member's
/// chart history when asked for (the console charts the leader's, where requests are served). Nothing secret: no token, no path.
/// </summary>
internal sealed record MemberStatus(
    int Id, string Role, ulong Term, int Leader, ulong CommitIndex, ulong AppliedIndex, ulong LastIndex,
    long LogBytes, ulong SnapshotIndex, long SnapshotsTaken, long LastSnapshotBytes, double UptimeSeconds,
    string? StorageProblem, IReadOnlyDictionary<int, ulong>? Followers, IReadOnlyList<ConsolePoint>? Points = null)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The member's status now; call on the node's scheduler.</summary>
    public static MemberStatus Take(int id, IEnumerable<int> members, ReplicatedStateMachine replica, TimeSpan uptime, string? storageProblem)
    {
        var raft = replica.Raft;
        var stopped = replica.IsStopped;
        Dictionary<int, ulong>? followers = null;
        if (!stopped && raft.IsLeader)
        {
            followers = [];
            foreach (var peer in members.Where(m => m != id))
                if (raft.Core.ProgressOf(new Flotilla.Runtime.NodeId(peer)) is { } progress) followers[peer] = progress.Match;
        }
        return new MemberStatus(id, stopped ? "Stopped" : raft.Role.ToString(), raft.Term, raft.Leader?.Value ?? 0,
            raft.CommitIndex, replica.AppliedIndex, raft.LastIndex, raft.PersistedSizeBytes, raft.Core.SnapshotIndex,
            replica.SnapshotsTaken, replica.LastSnapshotBytes, Math.Round(uptime.TotalSeconds, 1), storageProblem, followers);
    }

    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static MemberStatus? Decode(ReadOnlySpan<byte> bytes)
    {
        try { return JsonSerializer.Deserialize<MemberStatus>(bytes, Json); }
        catch (JsonException) { return null; }
    }
}
