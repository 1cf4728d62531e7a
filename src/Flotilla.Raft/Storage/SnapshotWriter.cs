namespace Flotilla.Raft;

/// <summary>
/// A snapshot the service writes as a stream (<see cref="RaftNode.SnapshotAsync"/>): storage hands one out
/// (<see cref="IRaftStorage.BeginSnapshotAsync"/>), the service writes its state to <see cref="Data"/>, the node seals
/// it (durable under a temporary name) and then commits it (<see cref="IRaftStorage.CommitSnapshotAsync"/>). Disposing a
/// writer that was never committed discards it.
/// </summary>
public abstract class SnapshotWriter : IAsyncDisposable
{
    protected SnapshotWriter(SnapshotMeta meta) => Meta = meta;

    public SnapshotMeta Meta { get; }

    /// <summary>Where the service writes its state. Prefer the asynchronous write methods.</summary>
    public abstract Stream Data { get; }

    /// <summary>Ends writing and makes the bytes durable (not yet the group's snapshot).</summary>
    public abstract ValueTask SealAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();
}
