namespace Flotilla.Raft.Testing;

/// <summary>Deliberate bugs for mutation checks, for harnesses outside this assembly (the replicated KV's simulated
/// cluster). Production code never calls these.</summary>
public static class RaftMutations
{
    /// <summary>Measures the read lease in ticks instead of on the monotonic clock (<see cref="RaftConfig.MutationTickBasedLease"/>).</summary>
    public static RaftNodeOptions WithTickBasedLease(RaftNodeOptions options) => options with { MutationTickBasedLease = true };

    /// <inheritdoc cref="WithTickBasedLease(RaftNodeOptions)"/>
    public static RaftConfig WithTickBasedLease(RaftConfig config) => config with { MutationTickBasedLease = true };
}
