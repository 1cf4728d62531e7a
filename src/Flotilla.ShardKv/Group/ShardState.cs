namespace Flotilla.ShardKv.Group;

/// <summary>A shard's state in one replica group (docs/shardkv-design.md, "Reconfiguration").</summary>
public enum ShardState : byte
{
    /// <summary>Not ours; nothing kept.</summary>
    Absent = 0,
    /// <summary>Ours in the current configuration, data present: clients are served.</summary>
    Serving = 1,
    /// <summary>Ours now, data still at the previous owner: clients wait (wrong group), the leader pulls it.</summary>
    Pulling = 2,
    /// <summary>Ours in the previous configuration only: frozen, kept until the new owner confirms it installed it.</summary>
    Offering = 3,
    /// <summary>Ours, installed and served, but the previous owner has not yet confirmed it deleted its copy: the group
    /// keeps the configuration until it has (so it still knows whom to tell), then the shard becomes Serving.</summary>
    Installed = 4,
}
