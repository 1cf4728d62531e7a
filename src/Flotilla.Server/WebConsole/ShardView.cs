using Flotilla.Server.Sharding;
using Flotilla.ShardKv.Group;

namespace Flotilla.Server.WebConsole;

/// <summary>One shard in the console: the group the controller's latest configuration gives it, and, when that group
/// runs on this member, the state of its local replica and the configuration that replica is in.</summary>
internal sealed record ShardRow(int Shard, int Gid, string State, int? GroupConfig);

/// <summary>A shard changing hands: <see cref="State"/> is the local group's state of it (Pulling, Offering,
/// Installed) and <see cref="From"/>/<see cref="To"/> the groups of the previous and current configurations.</summary>
internal sealed record ShardMove(int Shard, int From, int To, string State, int Config);

/// <summary>The sharded store as this member sees it: the controller replica's latest configuration and the moves its
/// local data groups are part-way through.</summary>
internal sealed record ShardView(int ConfigNum, IReadOnlyList<int> Groups, IReadOnlyList<ShardRow> Shards, IReadOnlyList<ShardMove> Moves)
{
    /// <summary>The view now; call on the node's scheduler.</summary>
    public static ShardView Take(ShardServerApplication application)
    {
        var latest = application.Controller.Controller.Latest;
        var local = application.Groups;
        var rows = new List<ShardRow>();
        for (var shard = 0; shard < latest.Shards.Count; shard++)
        {
            var gid = latest.Shards[shard];
            rows.Add(local.TryGetValue(gid, out var group)
                ? new ShardRow(shard, gid, group.State.StateOf(shard).ToString(), group.State.Current.Num)
                : new ShardRow(shard, gid, gid == 0 ? "Unassigned" : "(not on this member)", null));
        }
        var moves = new List<ShardMove>();
        foreach (var group in local.Values)
        {
            var state = group.State;
            for (var shard = 0; shard < state.ShardCount; shard++)
            {
                var s = state.StateOf(shard);
                if (s is ShardState.Serving or ShardState.Absent) continue;
                moves.Add(new ShardMove(shard, state.Previous.Shards[shard], state.Current.Shards[shard], s.ToString(), state.Current.Num));
            }
        }
        return new ShardView(latest.Num, latest.Groups.Keys.Order().ToList(), rows, moves);
    }
}
