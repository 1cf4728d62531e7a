namespace Flotilla.Cli.Nemesis;

/// <summary>One nemesis run, as the command line asks for it.</summary>
public sealed record NemesisOptions
{
    public required TimeSpan Duration { get; init; }
    public required IReadOnlyList<FaultFamily> Faults { get; init; }
    public int Nodes { get; init; } = 3;
    /// <summary>0: the replicated KV (one Raft group). G >= 1: the sharded store, G replica groups (every process hosts a
    /// replica of the controller and of every group) over <see cref="Shards"/> shards.</summary>
    public int Groups { get; init; }
    public int Shards { get; init; } = 16;
    public long Seed { get; init; } = 1;
    public int Clients { get; init; } = 12;
    public int Keys { get; init; } = 4;
    /// <summary>Clients that take turns holding the lock (<c>KvLock</c>) on one more key, besides <see cref="Clients"/>.</summary>
    public int LockClients { get; init; } = 2;
    public required string ReportDirectory { get; init; }
    public required string HistoryFile { get; init; }
    /// <summary>How long after healing the cluster has to acknowledge a put again.</summary>
    public TimeSpan RecoveryLimit { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The checker's limit; a long contended run takes seconds (197k operations on 3 keys: 19 s).</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
