using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>
/// The pure Raft state machine (extended Raft paper, Figure 2, §5–§7; etcd-style): no I/O, no clock, no tasks.
/// Inputs: <see cref="Step"/>, <see cref="Tick"/>, <see cref="Propose"/>, <see cref="ReadIndex"/>,
/// <see cref="TransferLeadership"/>, <see cref="Compact"/>. Output: <see cref="Ready"/> batches, acknowledged with
/// <see cref="Advance"/>. Randomness comes from the injected <see cref="Random"/>, so a seed replays exactly.
/// Not thread-safe: one caller (the node's scheduler) at a time.
/// </summary>
public sealed partial class RaftCore
{
    private readonly RaftConfig _config;
    private readonly Random _random;
    private readonly RaftLog _log;
    private readonly Dictionary<NodeId, Progress> _progress = new();
    private readonly Dictionary<NodeId, bool> _votes = new();
    private readonly List<Message> _outbox = new();
    private readonly List<ReadState> _readStates = new();
    private readonly ReadOnlyQueue _readOnly = new();
    private readonly List<ulong> _readsAwaitingTermCommit = new();

    private NodeId? _votedFor;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private NodeId? _leadTransferee;
    private bool _broadcastPending;
    private HardState _lastHardState;
    private Ready? _outstanding;
    private SnapshotMeta? _snapshot;
    private long _snapshotBytes;
    private SnapshotMeta? _snapshotToInstall;
    private IncomingSnapshot? _incomingSnapshot;
    private readonly List<SnapshotChunk> _receivedChunks = [];

    /// <param name="clock">The monotonic clock the read lease is measured on (virtual time in simulation); required
    /// with <see cref="RaftConfig.LeaseReads"/>, unused otherwise.</param>
    public RaftCore(RaftConfig config, Random random, RaftPersistentState? restored = null, TimeProvider? clock = null)
    {
        config.Validate();
        if (config.LeaseReads && clock is null) throw new ArgumentException("lease reads need a clock (a TimeProvider) to measure the lease on");
        _clock = clock;
        _clockOrigin = clock?.GetTimestamp() ?? 0;
        _voteHoldAfterStart = config.LeaseReads;
        if (!config.Join && !config.Voters.Contains(config.Id)) throw new ArgumentException($"{config.Id} is not among the voters");
        _config = config;
        _random = random;
        restored ??= RaftPersistentState.Empty;
        _snapshot = restored.Snapshot?.Meta;
        _snapshotBytes = restored.Snapshot?.Length ?? 0;
        _log = new RaftLog(restored.Snapshot, restored.Entries, restored.HardState.Commit);
        Term = restored.HardState.Term;
        _votedFor = restored.HardState.VotedFor;
        _lastHardState = CurrentHardState;
        _ackedIndex = AckedIndex;
        // The snapshot's membership, else the bootstrap voters; changes in the log after it are re-applied by the
        // driver as it re-applies the log (and no campaign starts before that, HasUnappliedConfChanges).
        var membership = restored.Snapshot?.Meta.Membership is { Voters.Incoming.IsEmpty: false } m ? m : MembershipConfig.FromVoters(config.Voters);
        SetMembership(membership, _log.SnapshotIndex);
        BecomeFollower(Term, null);
    }

    public NodeId Id => _config.Id;
    public RaftConfig Config => _config;
    public ulong Term { get; private set; }
    public RaftRole Role { get; private set; }
    public NodeId? Leader { get; private set; }
    public NodeId? VotedFor => _votedFor;
    public ulong CommitIndex => _log.Committed;
    public ulong AppliedIndex => _log.Applied;
    public ulong LastIndex => _log.LastIndex;
    public ulong LastTerm => _log.LastTerm;
    public ulong SnapshotIndex => _log.SnapshotIndex;
    /// <summary>The latest snapshot this node holds (its own or the leader's): where it sits in the log. Its bytes
    /// are in storage.</summary>
    public SnapshotMeta? LatestSnapshot => _snapshot;

    /// <summary>The size of <see cref="LatestSnapshot"/>'s data, which a leader sends to followers that fall behind.</summary>
    public long LatestSnapshotBytes => _snapshotBytes;
    public NodeId? LeadTransferee => _leadTransferee;
    public RaftLog Log => _log;

    /// <summary>The leader's view of a follower (null on followers or for self).</summary>
    public Progress? ProgressOf(NodeId peer) => Role == RaftRole.Leader ? _progress.GetValueOrDefault(peer) : null;

    private HardState CurrentHardState => new(Term, _votedFor, _log.Committed);
    private bool IsVoter => _membership.IsVoter(Id);
    private IEnumerable<NodeId> Peers => _progress.Keys;

    // ---------------------------------------------------------------- inputs

    /// <summary>Advances logical time by one tick: election timeouts, heartbeats, CheckQuorum.</summary>
    public void Tick()
    {
        _tickCount++;
        ExpireForwardedReads();
        if (Role == RaftRole.Leader) TickLeader();
        else TickElection();
    }

    /// <summary>Appends a command to the leader's log. It is sent (batched with any other proposals) at the next Ready.</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data)
    {
        if (Role != RaftRole.Leader) return ProposeResult.NotLeader(Leader);
        if (_leadTransferee is not null) return BusyTransferring();
        if (_log.LastIndex - _log.Committed >= (ulong)_config.MaxUncommittedEntries) return ProposeResult.Busy(Leader);
        var entry = new LogEntry(_log.LastIndex + 1, Term, EntryKind.Normal, data.ToArray());
        AppendToOwnLog(entry);
        return ProposeResult.Accepted(entry.Index, entry.Term);
    }

    /// <summary>Hands a message from the network to the state machine. Messages not addressed to this node are ignored.</summary>
    public void Step(Message m)
    {
        if (m.To != Id || m.From == Id || !IsWellFormed(m)) return;
        if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                // A node that heard from a live leader within the minimum election timeout ignores campaigns (§6
                // "disruptive servers"), unless the leader itself asked for it (leadership transfer).
                var inLease = _config.CheckQuorum && (Leader is not null || _voteHoldAfterStart) && _electionElapsed < _config.ElectionTicks;
                if (!m.Force && inLease) return;
            }
            if (m.Type == MessageType.PreVote || (m.Type == MessageType.PreVoteResponse && !m.Reject))
            {
                // A pre-vote changes nobody's term; a granted pre-vote answers with the term the candidate would use.
            }
            else if (m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, null);
            }
        }
        else if (m.Term < Term)
        {
            if ((_config.CheckQuorum || _config.PreVote) && m.Type is MessageType.Append or MessageType.Heartbeat)
            {
                // A leader cut off by a partition cannot learn the new term from votes (PreVote stops those), so tell it.
                Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = Term });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, From = Id, To = m.From, Term = Term, Reject = true });
            }
            return;
        }

        if (m.Type is MessageType.Vote or MessageType.PreVote)
        {
            HandleVoteRequest(m);
            return;
        }

        switch (Role)
        {
            case RaftRole.Leader: StepLeader(m); break;
            case RaftRole.Candidate or RaftRole.PreCandidate: StepCandidate(m); break;
            default: StepFollower(m); break;
        }
    }

    /// <summary>Shape checks the codec cannot make: a peer's bug must not become an exception in this node.</summary>
    private static bool IsWellFormed(Message m)
    {
        if (m.Type == MessageType.Append)
        {
            for (var i = 0; i < m.Entries.Count; i++)
            {
                var e = m.Entries[i];
                if (e.Index != m.Index + 1 + (ulong)i || e.Term > m.Term || (i > 0 && e.Term < m.Entries[i - 1].Term)) return false;
            }
            if (m.Entries.Count > 0 && m.Entries[0].Term < m.LogTerm) return false;
        }
        if (m.Type == MessageType.Snapshot && (m.SnapshotMeta is null || m.SnapshotMeta.Index == 0 || m.SnapshotMeta.Term > m.Term)) return false;
        return true;
    }

    // ---------------------------------------------------------------- ready / advance

    public bool HasReady
    {
        get
        {
            if (_outstanding is not null) return false;
            if (_broadcastPending && Role == RaftRole.Leader) return true;
            return _outbox.Count > 0 || _readStates.Count > 0 || _snapshotToInstall is not null || _receivedChunks.Count > 0 || _log.HasUnpersisted
                   || CurrentHardState != _lastHardState || (_log.HasCommittedToApply && _snapshotToInstall is null);
        }
    }

    /// <summary>Takes the next batch of work. Call <see cref="Advance"/> before asking for another.</summary>
    public Ready Ready()
    {
        if (_outstanding is not null) throw new InvalidOperationException("Advance the previous Ready first");
        if (_broadcastPending && Role == RaftRole.Leader) BroadcastAppend();
        _broadcastPending = false;

        var hardState = CurrentHardState;
        var snapshot = _snapshotToInstall;
        var ready = new Ready
        {
            HardState = hardState != _lastHardState ? hardState : null,
            Snapshot = snapshot,
            SnapshotChunks = _receivedChunks.Count == 0 ? [] : _receivedChunks.ToList(),
            Entries = _log.TakeUnpersisted(),
            MessagesNow = _outbox.Where(m => m.IsLeaderReplication).ToList(),
            MessagesAfterPersist = CoalesceAcks(_outbox.Where(m => !m.IsLeaderReplication).ToList()),
            // The application installs the snapshot first; entries after it come in the next batch.
            CommittedEntries = snapshot is null ? _log.CommittedToApply(_config.MaxApplyBytesPerReady) : [],
            ReadStates = _readStates.ToList(),
        };
        _outbox.Clear();
        _readStates.Clear();
        _snapshotToInstall = null;
        _receivedChunks.Clear();
        _outstanding = ready;
        return ready;
    }

    /// <summary>
    /// Drops an append acknowledgement that a later one in the same batch supersedes (same leader, same term, a
    /// higher or equal index, both successes): the leader learns the same from the last one alone, and a follower
    /// that processed several appends in one batch (say a commit update and new entries) sends one message, not two.
    /// </summary>
    private static List<Message> CoalesceAcks(List<Message> messages)
    {
        if (messages.Count < 2) return messages;
        var kept = new List<Message>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m is { Type: MessageType.AppendResponse, Reject: false } && Superseded(m, messages, i)) continue;
            kept.Add(m);
        }
        return kept;
    }

    private static bool Superseded(Message ack, List<Message> messages, int at)
    {
        for (var j = at + 1; j < messages.Count; j++)
        {
            var later = messages[j];
            if (later is { Type: MessageType.AppendResponse, Reject: false } && later.To == ack.To && later.Term == ack.Term && later.Index >= ack.Index)
                return true;
        }
        return false;
    }

    /// <summary>The driver finished the <paramref name="ready"/> batch: its data is durable and its entries applied.</summary>
    public void Advance(Ready ready)
    {
        if (!ReferenceEquals(ready, _outstanding)) throw new InvalidOperationException("Advance with a Ready that is not outstanding");
        _outstanding = null;
        if (ready.HardState is { } hs) _lastHardState = hs;
        if (ready.Entries.Count > 0) _log.StableTo(ready.Entries[^1].Index, ready.Entries[^1].Term);
        if (ready.Snapshot is not null) _log.SnapshotApplied(ready.Snapshot.Index);
        if (ready.CommittedEntries.Count > 0)
        {
            _log.AppliedTo(ready.CommittedEntries[^1].Index);
            MaybeAutoLeave();
        }
        // The leader counts its own copy toward commit only once durable.
        if (Role == RaftRole.Leader && MaybeCommit()) _broadcastPending = true;
    }

    // ---------------------------------------------------------------- role changes

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            _votedFor = null;
        }
        Leader = null;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTicks + _random.Next(_config.ElectionTicks);
        _leadTransferee = null;
        _votes.Clear();
        _broadcastPending = false;
        foreach (var p in _progress.Values)
        {
            p.BecomeProbe();
            p.Match = 0;
            p.Next = _log.LastIndex + 1;
            p.RecentActive = false;
        }
        FailPendingReads();
        DropLease();
    }

    private void BecomeFollower(ulong term, NodeId? leader)
    {
        Reset(term);
        Role = RaftRole.Follower;
        Leader = leader;
    }

    private void BecomePreCandidate()
    {
        // A pre-candidate keeps its term and vote: the pre-election changes no persistent state.
        _votes.Clear();
        Leader = null;
        Role = RaftRole.PreCandidate;
    }

    private void BecomeCandidate()
    {
        Reset(Term + 1);
        _votedFor = Id;
        Role = RaftRole.Candidate;
    }

    private void BecomeLeader()
    {
        Reset(Term);
        Role = RaftRole.Leader;
        Leader = Id;
        foreach (var p in _progress.Values) p.RecentActive = true;
        // The log may hold a change of an earlier term not yet applied: accept no new change before it is (etcd).
        _pendingConfIndex = _log.LastIndex;
        // §5.4.2 / §8: a leader commits nothing from earlier terms until an entry of its own term commits.
        AppendToOwnLog(new LogEntry(_log.LastIndex + 1, Term, EntryKind.Noop, ReadOnlyMemory<byte>.Empty));
    }

    private void AppendToOwnLog(LogEntry entry)
    {
        _log.Append(entry);
        _broadcastPending = true;
    }

    private void Send(Message m) => _outbox.Add(m);

    public override string ToString() => $"{Id} {Role} t{Term} last={_log.LastIndex}@{_log.LastTerm} commit={_log.Committed} applied={_log.Applied}";
}
