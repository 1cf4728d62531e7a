using Flotilla.Raft;
using Flotilla.Wal;

namespace Flotilla.Rsm;

/// <summary>How one <see cref="ReplicatedStateMachine"/> runs.</summary>
public sealed record RsmOptions
{
    /// <summary>The Raft group underneath (group id, voters, timing, WAL layout).</summary>
    public required RaftNodeOptions Raft { get; init; }

    /// <summary>
    /// Snapshot the service once the group's persisted Raft state (WAL + snapshot file) reaches this many bytes;
    /// null = never snapshot (the log grows without bound). When set and <see cref="RaftNodeOptions.Wal"/> is null,
    /// the WAL uses segments of half the threshold (at least 4 KiB), because compaction frees whole segments only.
    /// </summary>
    public long? SnapshotThresholdBytes { get; init; }

    /// <summary>A submit that has not applied within this long returns <see cref="SubmitStatus.Timeout"/>, whatever
    /// its caller's token says: nothing waits forever.</summary>
    public TimeSpan SubmitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A read that has not been served within this long returns <see cref="ReadStatus.Timeout"/>.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often waiting submits are checked for a lost leadership or a passed deadline.</summary>
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Called with the Raft node after it is created and before it starts (on the node's scheduler): the
    /// place to subscribe to <see cref="RaftNode.MembershipApplied"/> and see every change, replayed ones included.</summary>
    public Action<RaftNode>? BeforeRaftStart { get; init; }

    /// <summary>The Raft options actually used: <see cref="Raft"/> with a WAL layout fitted to the snapshot threshold.</summary>
    public RaftNodeOptions EffectiveRaftOptions()
    {
        if (SnapshotThresholdBytes is not { } threshold || Raft.Wal is not null) return Raft;
        var segmentBytes = Math.Clamp(threshold / 2, 4096, 64L * WalOptions.MiB);
        // Preallocated segments, as WalRaftStorage's default (see there); a segment is half the threshold, so the
        // zero-filled slack on disk stays within the threshold.
        return Raft with { Wal = new WalOptions { SegmentBytes = segmentBytes, Preallocate = true } };
    }

    public void Validate()
    {
        if (SnapshotThresholdBytes is <= 0) throw new ArgumentException("SnapshotThresholdBytes must be positive (or null for never)");
        if (SubmitTimeout <= TimeSpan.Zero) throw new ArgumentException("SubmitTimeout must be positive");
        if (ReadTimeout <= TimeSpan.Zero) throw new ArgumentException("ReadTimeout must be positive");
        if (WatchInterval <= TimeSpan.Zero) throw new ArgumentException("WatchInterval must be positive");
    }
}
