using Flotilla.Raft;
using Flotilla.Runtime;
using Microsoft.Extensions.Logging;

namespace Flotilla.Rsm;

/// <summary>
/// One replica of a replicated service: a <see cref="RaftNode"/> plus an <see cref="IReplicatedService"/> on one
/// <see cref="NodeContext"/>. Committed commands are applied to the service in log order on every replica; a
/// submitter on the leader gets the result its own command produced. Reads go through Raft's ReadIndex and run
/// locally once the state machine caught up to the read index (docs/rsm.md explains why that is linearizable).
/// <para>The service is snapshotted when the persisted Raft state passes <see cref="RsmOptions.SnapshotThresholdBytes"/>;
/// after a restart the replica restores the stored snapshot and replays the committed log after it.</para>
/// <para>Threading: every member must be called on the node's scheduler. Many replicas (of different groups) can share
/// one NodeContext.</para>
/// </summary>
public sealed class ReplicatedStateMachine
{
    private readonly NodeContext _ctx;
    private readonly RsmOptions _options;
    private readonly IReplicatedService _service;
    private readonly RaftNode _raft;
    private readonly ILogger _log;
    private readonly SnapshotPolicy _snapshots;
    private readonly Dictionary<ulong, PendingSubmit> _submits = new();
    private readonly PriorityQueue<PendingRead, ulong> _reads = new();
    private ITimer? _watch;
    private Task _applyLoop = Task.CompletedTask;
    private bool _stopped;

    private ReplicatedStateMachine(NodeContext ctx, RsmOptions options, IReplicatedService service, RaftNode raft)
    {
        _ctx = ctx;
        _options = options;
        _service = service;
        _raft = raft;
        _log = ctx.Logs.CreateLogger($"rsm.{options.Raft.GroupId}");
        _snapshots = new SnapshotPolicy(options.SnapshotThresholdBytes);
    }

    /// <summary>Opens the group's storage, starts Raft and the apply loop. The stored snapshot (if any) is restored
    /// into <paramref name="service"/> before any command is applied.</summary>
    public static async Task<ReplicatedStateMachine> StartAsync(NodeContext ctx, RsmOptions options, IReplicatedService service,
        CancellationToken ct = default)
    {
        options.Validate();
        var raft = await RaftNode.CreateAsync(ctx, options.EffectiveRaftOptions(), ct);
        var rsm = new ReplicatedStateMachine(ctx, options, service, raft);
        options.BeforeRaftStart?.Invoke(raft);
        await raft.StartAsync(ct);
        rsm._applyLoop = rsm.ApplyLoopAsync();
        return rsm;
    }

    public NodeId Id => _ctx.Id;
    public RaftNode Raft => _raft;
    public IReplicatedService Service => _service;
    public bool IsLeader => !_stopped && _raft.IsLeader;
    public NodeId? Leader => _stopped ? null : _raft.Leader;
    public bool IsStopped => _stopped;

    /// <summary>The last log index applied to the service (or covered by the restored snapshot).</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>Snapshots this replica took itself (not counting installed ones).</summary>
    public long SnapshotsTaken => _snapshots.SnapshotsTaken;

    /// <summary>Size of the last snapshot this replica took (0 if none): what a small state costs to persist.</summary>
    public long LastSnapshotBytes { get; private set; }

    /// <summary>Snapshots this replica restored (at start or sent by the leader).</summary>
    public long SnapshotsRestored { get; private set; }

    /// <summary>Submits waiting for their index to apply.</summary>
    public int PendingSubmits => _submits.Count;

    /// <summary>
    /// Proposes <paramref name="command"/> and waits until it is applied on this replica. Returns the service's result,
    /// or why not (see <see cref="SubmitStatus"/>: some failures mean "definitely not applied", others "unknown").
    /// Never waits longer than <see cref="RsmOptions.SubmitTimeout"/>, and returns at once when the replica stops.
    /// </summary>
    public Task<SubmitResult> SubmitAsync(ReadOnlyMemory<byte> command, CancellationToken ct = default)
    {
        if (_stopped) return Task.FromResult(new SubmitResult(SubmitStatus.Stopped));
        if (ct.IsCancellationRequested) return Task.FromResult(new SubmitResult(SubmitStatus.Cancelled));
        var proposed = _raft.Propose(command);
        if (!proposed.IsAccepted)
        {
            var status = proposed.Status == ProposeStatus.Busy ? SubmitStatus.Busy : SubmitStatus.NotLeader;
            return Task.FromResult(new SubmitResult(status, LeaderHint: proposed.LeaderHint));
        }
        var pending = new PendingSubmit(proposed.Index, proposed.Term, Deadline(_options.SubmitTimeout));
        // An older waiter at the same index belongs to an entry this node's log no longer holds (we could only append
        // here again after a newer leader truncated it), and a truncated entry was never committed.
        if (_submits.Remove(proposed.Index, out var older)) older.Finish(new SubmitResult(SubmitStatus.NotCommitted, LeaderHint: Id));
        _submits[proposed.Index] = pending;
        // The token may fire on any thread: it only completes the (thread-safe) task; the entry is swept by the watch.
        if (ct.CanBeCanceled) pending.Registration = ct.Register(() => pending.Complete(new SubmitResult(SubmitStatus.Cancelled)));
        EnsureWatch();
        return pending.Done.Task;
    }

    /// <summary>
    /// A linearizable read: confirms leadership through Raft's ReadIndex, waits until this replica applied the read
    /// index, then runs <paramref name="read"/> against the local state. With the default <see cref="ReadMode.Leader"/>
    /// no leases: a leader in a minority partition never confirms, so its reads time out instead of returning stale
    /// data. The Raft options choose otherwise (<see cref="ReadModes.WithReads"/>): the leader's lease (no round while
    /// it holds), or follower reads (this replica may be a follower; its read index comes from the leader).
    /// </summary>
    public async Task<ReadResult<T>> ReadAsync<T>(Func<T> read, CancellationToken ct = default)
    {
        if (_stopped) return new ReadResult<T>(ReadStatus.Stopped);
        var confirmed = await _raft.ReadIndexAsync();
        if (_stopped) return new ReadResult<T>(ReadStatus.Stopped);
        if (!confirmed.IsOk)
            return new ReadResult<T>(confirmed.Status == ReadIndexStatus.Timeout ? ReadStatus.Timeout : ReadStatus.NotLeader, LeaderHint: confirmed.LeaderHint);
        if (AppliedIndex < confirmed.Index)
        {
            var pending = new PendingRead(confirmed.Index, Deadline(_options.ReadTimeout));
            _reads.Enqueue(pending, pending.Index);
            using var registration = ct.CanBeCanceled ? ct.Register(() => pending.Complete(ReadStatus.Cancelled)) : default;
            EnsureWatch();
            var status = await pending.Done.Task;
            if (status != ReadStatus.Ok) return new ReadResult<T>(status, LeaderHint: Leader);
            if (_stopped) return new ReadResult<T>(ReadStatus.Stopped);
        }
        // Here AppliedIndex >= read index (it only grows): the state reflects every write completed before the read began.
        return new ReadResult<T>(ReadStatus.Ok, read());
    }

    /// <summary>Stops Raft and the apply loop; every waiting submit and read returns <c>Stopped</c> at once.</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        _watch?.Dispose();
        _watch = null;
        FailAllWaiters();
        await _raft.StopAsync();
        await _applyLoop;
    }

    // ------------------------------------------------------------ applying

    private async Task ApplyLoopAsync()
    {
        var reader = _raft.Applies;
        try
        {
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var msg))
                {
                    if (_stopped) return;
                    if (msg.Kind == ApplyKind.Snapshot) await RestoreAsync(msg);
                    else Apply(msg);
                }
                await TakeSnapshotIfDueAsync();
            }
        }
        catch (Exception e)
        {
            // The service threw on a committed command (a bug: it must be deterministic and total). Continuing would
            // let this replica diverge, so it stops serving instead.
            _log.LogError(e, "{Node} group {Group}: applying failed at index {Index}; the replica stops", Id, _raft.GroupId, AppliedIndex + 1);
            if (!_stopped)
            {
                _stopped = true;
                _watch?.Dispose();
                FailAllWaiters();
                await _raft.StopAsync();
            }
        }
    }

    private void Apply(ApplyMsg msg)
    {
        switch (msg.Kind)
        {
            case ApplyKind.Noop:
            case ApplyKind.ConfChange: // applied to Raft by the node; nothing for the service
                AppliedIndex = msg.Index;
                Resolve(msg.Index, msg.Term, result: null);
                break;
            default:
                var result = _service.Apply(msg.Data);
                AppliedIndex = msg.Index;
                _snapshots.Applied(msg.Data.Length);
                Resolve(msg.Index, msg.Term, result);
                break;
        }
        ReleaseReads();
    }

    /// <summary>Replaces the service's state with a snapshot, read as a stream from wherever storage keeps it.</summary>
    private async Task RestoreAsync(ApplyMsg msg)
    {
        if (msg.Snapshot is { } snapshot)
        {
            await using var input = await snapshot.OpenDataAsync();
            await _service.RestoreSnapshotAsync(input, snapshot.Length, CancellationToken.None);
        }
        else
        {
            _service.Restore(msg.Data);
        }
        AppliedIndex = msg.Index;
        SnapshotsRestored++;
        _snapshots.Restored(msg.Index);
        // Whatever was waiting at or below the snapshot is folded into it: we cannot tell whether it was ours.
        foreach (var pending in _submits.Values.Where(p => p.Index <= msg.Index).ToList())
        {
            _submits.Remove(pending.Index);
            pending.Finish(new SubmitResult(SubmitStatus.LeadershipLost, LeaderHint: Leader));
        }
        ReleaseReads();
    }

    /// <summary>An entry with the proposal's (index, term) is the proposal itself (Log Matching); anything else at that
    /// index means the proposal was overwritten and can never commit.</summary>
    private void Resolve(ulong index, ulong term, ReadOnlyMemory<byte>? result)
    {
        if (!_submits.Remove(index, out var pending)) return;
        pending.Finish(pending.Term == term && result is { } r
            ? new SubmitResult(SubmitStatus.Ok, r)
            : new SubmitResult(SubmitStatus.NotCommitted, LeaderHint: Leader));
    }

    private void ReleaseReads()
    {
        while (_reads.TryPeek(out var read, out var index) && index <= AppliedIndex)
        {
            _reads.Dequeue();
            read.Complete(ReadStatus.Ok);
        }
    }

    /// <summary>Snapshots when the policy says so: the service writes its state straight into the snapshot file
    /// (nothing is applied meanwhile, so it is the state at <see cref="AppliedIndex"/>).</summary>
    private async Task TakeSnapshotIfDueAsync()
    {
        if (_stopped || !_snapshots.ShouldSnapshot(AppliedIndex, _raft.PersistedSizeBytes)) return;
        var index = AppliedIndex;
        var written = await _raft.SnapshotAsync(index, _service.WriteSnapshotAsync);
        // Taken or not (no room on the disk, a newer one arrived), wait for the policy's next threshold before trying again.
        _snapshots.Took(index);
        if (written is { } bytes) LastSnapshotBytes = bytes;
    }

    // ------------------------------------------------------------ watching waiters

    private long Deadline(TimeSpan timeout) => _ctx.Time.GetTimestamp() + (long)(timeout.TotalSeconds * _ctx.Time.TimestampFrequency);

    /// <summary>A timer runs only while something waits, so an idle replica adds no events.</summary>
    private void EnsureWatch()
    {
        if (_watch is not null || _stopped) return;
        _watch = _ctx.Time.CreateTimer(_ => Watch(), null, _options.WatchInterval, _options.WatchInterval);
    }

    private void Watch()
    {
        if (_stopped) return;
        var now = _ctx.Time.GetTimestamp();
        var leading = _raft.IsLeader;
        var term = _raft.Term;
        foreach (var pending in _submits.Values.ToList())
        {
            // A waiter its caller cancelled is finished with its own (already set) result: only forgotten here.
            var outcome = pending.IsDone ? new SubmitResult(SubmitStatus.Cancelled)
                : !leading || term != pending.Term ? new SubmitResult(SubmitStatus.LeadershipLost, LeaderHint: _raft.Leader)
                : now >= pending.DeadlineTimestamp ? new SubmitResult(SubmitStatus.Timeout)
                : (SubmitResult?)null;
            if (outcome is not { } o) continue;
            _submits.Remove(pending.Index);
            pending.Finish(o);
        }
        if (_reads.Count > 0)
        {
            var keep = new List<PendingRead>();
            while (_reads.TryDequeue(out var read, out _))
            {
                if (read.IsDone) continue;
                if (now >= read.DeadlineTimestamp) read.Complete(ReadStatus.Timeout);
                else keep.Add(read);
            }
            foreach (var read in keep) _reads.Enqueue(read, read.Index);
        }
        if (_submits.Count == 0 && _reads.Count == 0)
        {
            _watch?.Dispose();
            _watch = null;
        }
    }

    private void FailAllWaiters()
    {
        foreach (var pending in _submits.Values) pending.Finish(new SubmitResult(SubmitStatus.Stopped));
        _submits.Clear();
        while (_reads.TryDequeue(out var read, out _)) read.Complete(ReadStatus.Stopped);
    }
}
