using Flotilla.Runtime;

namespace Flotilla.Raft;

// The leader's read lease (etcd's ReadOnlyLeaseBased, made safe against paused processes). With CheckQuorum a follower
// that acknowledged a heartbeat neither votes for anyone else nor campaigns for at least ElectionTicks ticks after it
// RECEIVED it, and a tick lasts at least TickDuration; so no other leader can exist before (send time of that
// heartbeat + ElectionTicks * TickDuration) on the follower's clock. Once a quorum acknowledged a round, the leader
// may therefore serve reads at its commit index until the round's send time + LeaseDuration on its own monotonic
// clock (LeaseDuration = the minimum election timeout less the drift bound). Time is the injected TimeProvider's
// monotonic timestamp, never ticks: a process paused by SIGSTOP or a long GC keeps an old tick count, but its clock
// runs on, so after it resumes its lease has expired.
public sealed partial class RaftCore
{
    private readonly TimeProvider? _clock;
    private readonly long _clockOrigin;
    private readonly Queue<(ulong Round, TimeSpan SentAt)> _leaseRoundsInFlight = new();
    private readonly Dictionary<NodeId, ulong> _leaseAcks = new();
    private ulong _leaseRound;
    private TimeSpan? _leaseExpires;
    private long _tickCount;

    /// <summary>After a restart a node with lease reads holds off votes for one election timeout, as if it had just
    /// heard from a leader: it may have acknowledged a lease round just before it went down, and its tick count and
    /// leader were lost with its memory.</summary>
    private bool _voteHoldAfterStart;

    /// <summary>No lease for the rest of this leadership: a transfer was started, and its TimeoutNow (possibly still
    /// in flight) lets the target win forced votes inside every follower's lease.</summary>
    private bool _leaseForfeited;

    /// <summary>The membership the lease's quorum was counted in. A change (a new config object) voids the lease and
    /// the rounds in flight: a quorum of the old config need not intersect a quorum of the new one.</summary>
    private MembershipConfig? _leaseMembership;

    /// <summary>Whether the leader holds a valid read lease now (always false with lease reads off).</summary>
    public bool HasReadLease => _config.LeaseReads && Role == RaftRole.Leader && !_leaseForfeited && _leadTransferee is null
                                && ReferenceEquals(_membership, _leaseMembership) && _leaseExpires is { } expires && LeaseNow() < expires;

    /// <summary>Monotonic time since the core started (the mutation reads it from the tick counter instead).</summary>
    private TimeSpan LeaseNow() => _config.MutationTickBasedLease
        ? _config.TickDuration * _tickCount
        : _clock!.GetElapsedTime(_clockOrigin);

    private ulong NextLeaseRound()
    {
        if (!_config.LeaseReads || Role != RaftRole.Leader) return 0;
        if (!ReferenceEquals(_membership, _leaseMembership))
        {
            _leaseExpires = null;
            _leaseRoundsInFlight.Clear();
            _leaseAcks.Clear();
            _leaseMembership = _membership;
        }
        var round = ++_leaseRound;
        _leaseRoundsInFlight.Enqueue((round, LeaseNow()));
        // Rounds whose answers were all lost must not pile up: a round older than a lease cannot extend it anyway.
        while (_leaseRoundsInFlight.Count > 1024) _leaseRoundsInFlight.Dequeue();
        return round;
    }

    /// <summary>A follower echoed lease round <paramref name="round"/>: once a quorum has acknowledged a round (the
    /// leader counts itself for every round it sent), the lease runs from that round's send time.</summary>
    private void AckLeaseRound(NodeId from, ulong round)
    {
        if (round == 0 || !_config.LeaseReads || !ReferenceEquals(_membership, _leaseMembership)) return;
        if (_leaseAcks.GetValueOrDefault(from) >= round) return;
        _leaseAcks[from] = round;
        var confirmed = _membership.Voters.CommittedIndex(id => id == Id ? _leaseRound : _leaseAcks.GetValueOrDefault(id));
        TimeSpan? sentAt = null;
        while (_leaseRoundsInFlight.TryPeek(out var r) && r.Round <= confirmed)
        {
            sentAt = r.SentAt;
            _leaseRoundsInFlight.Dequeue();
        }
        if (sentAt is { } t && !_leaseForfeited) _leaseExpires = t + _config.LeaseDuration;
    }

    private void DropLease()
    {
        _leaseExpires = null;
        _leaseRoundsInFlight.Clear();
        _leaseAcks.Clear();
        _leaseForfeited = false;
    }

    private void ForfeitLease()
    {
        _leaseExpires = null;
        _leaseForfeited = true;
    }
}
