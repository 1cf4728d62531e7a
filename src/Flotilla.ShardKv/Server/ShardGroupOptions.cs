using Flotilla.Raft;
using Flotilla.Rsm;
using Flotilla.Runtime;

namespace Flotilla.ShardKv.Server;

/// <summary>How one replica of a replica group runs (<see cref="ShardGroupServer.StartAsync"/>).</summary>
public sealed record ShardGroupOptions
{
    /// <summary>The group id, as the controller knows it (positive). Its Raft group id is the number itself:
    /// service <c>raft.&lt;gid&gt;</c>, storage <c>raft/&lt;gid&gt;/</c>, so many groups share one node.</summary>
    public required int Gid { get; init; }

    /// <summary>The store's shard count; must equal the controller's.</summary>
    public required int ShardCount { get; init; }

    /// <summary>The group's Raft members (node ids on the peer transport).</summary>
    public required IReadOnlyList<NodeId> Voters { get; init; }

    /// <summary>The controller replicas' endpoints, as the group's <see cref="Rpc.IShardChannel"/> addresses them.</summary>
    public required IReadOnlyList<string> Controllers { get; init; }

    /// <summary>See <see cref="RsmOptions.SnapshotThresholdBytes"/>.</summary>
    public long? SnapshotThresholdBytes { get; init; }

    /// <summary>How often the leader's driver looks for the next configuration and for shards to pull or confirm.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>One attempt at one endpoint (controller query, pull, delete).</summary>
    public TimeSpan RpcTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Bytes of keys and values per page when pulling a gained shard (each page is one pull reply and one log
    /// entry): well under the group-to-group message limit (4 MiB) once JSON/base64-encoded, so shards of any size move.</summary>
    public int MigrationPageBytes { get; init; } = DefaultMigrationPageBytes;

    public const int DefaultMigrationPageBytes = 512 * 1024;

    /// <summary>Raft timing and limits for the group; <c>GroupId</c> and <c>Voters</c> are replaced by this record's.</summary>
    public RaftNodeOptions? Raft { get; init; }

    public RsmOptions ToRsmOptions() => new()
    {
        Raft = (Raft ?? new RaftNodeOptions { GroupId = "", Voters = [] }) with { GroupId = RaftGroupId(Gid), Voters = Voters },
        SnapshotThresholdBytes = SnapshotThresholdBytes,
    };

    public static string RaftGroupId(int gid) => gid.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
