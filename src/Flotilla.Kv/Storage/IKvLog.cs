using Flotilla.Kv.Protos;

namespace Flotilla.Kv.Storage;

/// <summary>
/// Where a single-node server makes its applied puts durable. The server applies a put to its state machine,
/// appends it here, and answers only once <see cref="WaitDurableAsync"/> says everything appended so far is on disk
/// (every reply waits, so no client can observe state that a crash could take back).
/// </summary>
public interface IKvLog
{
    /// <summary>Throws (<see cref="KvDiskFullException"/>) when the log cannot take a put now, before the server applies it.</summary>
    ValueTask EnsureWritableAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <summary>Stages an applied put; returns its sequence number. Not durable yet.</summary>
    long Append(PutRequest put);

    /// <summary>Sequence number of the last staged put (0 if none).</summary>
    long LastAppended { get; }

    /// <summary>Completes when every put up to <paramref name="sequence"/> is durable (group commit: one fsync covers
    /// every put staged before it starts). Throws if the disk failed; the log is unusable afterwards.</summary>
    ValueTask WaitDurableAsync(long sequence, CancellationToken cancellationToken = default);
}
