namespace Flotilla.Raft;

/// <summary>How the leader replicates to one follower (etcd's tracker states).</summary>
public enum ProgressState : byte
{
    /// <summary>Unknown match: one Append per heartbeat until the follower's position is found.</summary>
    Probe,
    /// <summary>Known match: pipeline Appends optimistically, bounded by the inflight window.</summary>
    Replicate,
    /// <summary>The follower needs entries the leader compacted: stream the snapshot, send nothing else.</summary>
    Snapshot,
}

/// <summary>The leader's view of one follower.</summary>
public sealed class Progress(int maxInflight)
{
    public ulong Match { get; set; }
    public ulong Next { get; set; } = 1;
    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In Probe: an Append was sent and we wait for its answer or the next heartbeat.</summary>
    public bool ProbeSent { get; set; }

    /// <summary>A learner: replicated to like any follower, but its acknowledgements never count toward a quorum.</summary>
    public bool IsLearner { get; set; }

    /// <summary>Heard from since the last CheckQuorum round.</summary>
    public bool RecentActive { get; set; }

    public Inflights Inflights { get; } = new(maxInflight);

    /// <summary>In Snapshot: the index of the snapshot being sent, the bytes the follower confirmed holding, the bytes
    /// sent so far (at most a window ahead of the acknowledged ones), and the heartbeat rounds without progress (to
    /// resend from the acknowledged offset when a chunk or its ack was lost).</summary>
    public ulong PendingSnapshot { get; private set; }
    public ulong SnapshotAckedBytes { get; set; }
    public ulong SnapshotSentBytes { get; set; }

    /// <summary>Counts the times the transfer went back to the acknowledged offset; chunks carry it (Context) and the
    /// follower's answers echo it, so rejections of chunks sent before the latest rewind do not rewind again.</summary>
    public ulong SnapshotEpoch { get; set; }
    public int SnapshotIdleRounds { get; set; }

    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    public void BecomeProbe()
    {
        // Coming back from a snapshot, the follower holds at least the snapshot.
        Next = State == ProgressState.Snapshot ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        Reset(ProgressState.Probe);
    }

    public void BecomeReplicate()
    {
        Next = Match + 1;
        Reset(ProgressState.Replicate);
    }

    public void BecomeSnapshot(ulong snapshotIndex)
    {
        Reset(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    private void Reset(ProgressState state)
    {
        State = state;
        ProbeSent = false;
        PendingSnapshot = 0;
        SnapshotAckedBytes = 0;
        SnapshotSentBytes = 0;
        SnapshotEpoch = 0;
        SnapshotIdleRounds = 0;
        Inflights.Reset();
    }

    /// <summary>An acknowledgement up to <paramref name="index"/>; false if it told us nothing new.</summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }
        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>
    /// A rejection of the Append whose prevLogIndex was <paramref name="rejected"/>; <paramref name="nextGuess"/> is
    /// where the fast-backup hints say the logs may agree. False when the rejection is stale (out of order).
    /// </summary>
    public bool MaybeDecreaseTo(ulong rejected, ulong nextGuess)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match) return false;
            Next = Match + 1;
            return true;
        }
        if (Next - 1 != rejected) return false;
        // A rejection always moves Next down, so probing ends after at most one round trip per backed-up step.
        var next = Math.Max(Math.Min(rejected, nextGuess), 1);
        // Rejecting at or below what it acknowledged means the follower lost entries it had made durable (a wiped
        // or lying disk). Forget the acknowledgement and repair it from below instead of probing the same spot forever.
        if (next <= Match) Match = next - 1;
        Next = next;
        ProbeSent = false;
        return true;
    }

    public override string ToString() => $"{(IsLearner ? "learner " : "")}{State} match={Match} next={Next}{(ProbeSent ? " paused" : "")} inflight={Inflights.Count}";
}
