using System.Threading.Channels;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Wal;
using Microsoft.Extensions.Logging;

namespace Flotilla.Raft;

/// <summary>
/// Runs one <see cref="RaftCore"/> on a <see cref="NodeContext"/>: ticks it from a timer, feeds it inbound messages,
/// and carries out its <see cref="Ready"/> batches (send, persist, apply) in the order that keeps Raft's promises.
/// Many nodes of different groups can share one NodeContext: each maps its own router service <c>raft.&lt;group&gt;</c>.
/// <para>Threading: every public member must be called on the node's scheduler (<see cref="NodeContext.Scheduler"/>).</para>
/// </summary>
public sealed partial class RaftNode : IRpcHandler
{
    private readonly NodeContext _ctx;
    private readonly RaftNodeOptions _options;
    private readonly IRaftStorage _storage;
    private readonly ILogger _log;
    private readonly Channel<ApplyMsg> _apply;
    private readonly Dictionary<MessageType, string> _methods;
    private readonly Dictionary<ulong, PendingRead> _reads = new();
    private readonly List<PendingTransfer> _transfers = new();
    private RaftCore? _core;
    private ITimer? _ticker;
    private Task _pump = Task.CompletedTask;
    private bool _pumping;
    private bool _stopped;
    private bool _stopRequested;
    private Exception? _storageFailure;
    private RaftSnapshot? _pendingCompaction;
    private RaftSnapshot? _blockedCompaction;
    // A snapshot the service wrote as a stream, sealed, waiting for the pump to make it the group's snapshot.
    private SnapshotWriter? _pendingCommit;
    private bool _snapshotWriting;
    private Ready? _unpersisted;
    private bool _probeDue;
    private long _nextProbeTick;
    private HardState _syncedHardState;
    private ulong _nextReadId;
    private long _ticks;

    private sealed record PendingRead(TaskCompletionSource<ReadIndexResult> Done, long DeadlineTick);
    private sealed record PendingTransfer(NodeId Target, TaskCompletionSource<bool> Done, long DeadlineTick);

    public RaftNode(NodeContext ctx, RaftNodeOptions options, IRaftStorage storage)
    {
        options.Validate(ctx.Id);
        _ctx = ctx;
        _options = options;
        _storage = storage;
        _log = ctx.Logs.CreateLogger($"raft.{options.GroupId}");
        _apply = Channel.CreateBounded<ApplyMsg>(new BoundedChannelOptions(options.ApplyQueueCapacity)
        {
            SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
        });
        _methods = Enum.GetValues<MessageType>().ToDictionary(t => t, t => $"{options.Service}/{t.ToString().ToLowerInvariant()}");
    }

    /// <summary>Opens WAL-backed storage under <c>raft/&lt;group&gt;/</c> in the node's storage and builds the node.</summary>
    public static async Task<RaftNode> CreateAsync(NodeContext ctx, RaftNodeOptions options, CancellationToken ct = default)
    {
        var storage = await WalRaftStorage.OpenAsync(ctx.Storage, options.StorageDirectory, options.Wal, ct);
        return new RaftNode(ctx, options, storage);
    }

    public NodeId Id => _ctx.Id;
    public string GroupId => _options.GroupId;
    public RaftCore Core => _core ?? throw new InvalidOperationException("the node is not started");
    internal RaftCore? CoreIfStarted => _core;
    public ulong Term => Core.Term;
    public NodeId? Leader => Core.Leader;
    public RaftRole Role => Core.Role;
    public bool IsLeader => Core.Role == RaftRole.Leader;
    public ulong CommitIndex => Core.CommitIndex;
    public ulong LastIndex => Core.LastIndex;
    public long PersistedSizeBytes => _storage.SizeBytes;

    /// <summary>"disk full (PATH): ..." while storage has no room for new writes (the service should refuse them);
    /// null otherwise. The node keeps running: see <see cref="PumpAsync"/>.</summary>
    public string? StorageProblem => _storage.SpaceProblem ?? (_unpersisted is not null || _blockedCompaction is not null ? "disk full" : null);

    /// <summary>The storage failure (not a full disk: a failed fsync, an I/O error) that made this node stop taking
    /// part; null while healthy.</summary>
    public Exception? StorageFailure => _storageFailure;

    /// <summary>The logical Raft state: the encoded hard state plus the encoded log entries after the snapshot
    /// (index and term included). Unlike <see cref="PersistedSizeBytes"/> it ignores WAL segment slack, so it shows
    /// whether compaction keeps the log short.</summary>
    public long RaftStateBytes
    {
        get
        {
            var log = Core.Log;
            long bytes = StateCodec.EncodeHardState(new HardState(Core.Term, Core.VotedFor, Core.CommitIndex)).Length;
            for (var i = log.FirstIndex; i <= log.LastIndex; i++) bytes += 16 + EntryCodec.EncodePayload(log.EntryAt(i)).Length;
            return bytes;
        }
    }

    /// <summary>Messages that failed to decode and were dropped.</summary>
    public long MalformedMessages { get; private set; }

    /// <summary>Committed entries and installed snapshots, in log order. Read it on the node's scheduler with
    /// <c>while (await WaitToReadAsync()) while (TryRead(out var m)) ...</c>, which resumes on the scheduler;
    /// not with <c>ReadAllAsync</c>, whose continuations run on the thread pool. The queue is bounded: a service that
    /// stops reading holds the node back (it stops advancing) rather than letting memory grow.</summary>
    public ChannelReader<ApplyMsg> Applies => _apply.Reader;

    /// <summary>Recovers from storage, delivers the stored snapshot (if any) first, and starts ticking and serving.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        if (_core is not null) throw new InvalidOperationException("already started");
        var state = await _storage.LoadAsync(ct);
        _syncedHardState = state.HardState;
        _core = new RaftCore(_options.ToCoreConfig(_ctx.Id), _ctx.Random, state, _ctx.Time);
        if (state.Snapshot is not null) await _apply.Writer.WriteAsync(ApplyMsg.FromSnapshot(state.Snapshot), ct);
        RaiseMembershipApplied(_core.SnapshotIndex, null, _core.Membership);
        _ctx.Router.Map(_options.Service, this);
        _ticker = _ctx.Time.CreateTimer(_ => OnTick(), null, _options.TickInterval, _options.TickInterval);
        _log.LogInformation("{Node} started group {Group}: term {Term}, log {First}..{Last}, commit {Commit}",
            Id, GroupId, _core.Term, _core.SnapshotIndex + 1, _core.LastIndex, _core.CommitIndex);
        if (_storage is WalRaftStorage { RecoveredTornTail: { } torn }) _log.LogWarning("{Node} group {Group}: WAL recovery {Torn}", Id, GroupId, torn);
        Kick();
    }

    /// <summary>Proposes a command. Accepted means appended at (Index, Term) on this leader; watch the apply stream
    /// for that index with that term to learn it committed (another term there means it was lost).</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> command)
    {
        if (_stopped) return ProposeResult.NotLeader(null);
        var result = Core.Propose(command);
        if (result.IsAccepted) Kick();
        return result;
    }

    /// <summary>The service snapshotted its state up to <paramref name="index"/> (an index it has applied):
    /// the node stores the snapshot and trims its log.</summary>
    public void Snapshot(ulong index, ReadOnlyMemory<byte> state)
    {
        if (_stopped) return;
        if (Core.Compact(index, state) is { } snapshot)
        {
            _pendingCompaction = snapshot;
            Kick();
        }
    }

    /// <summary>
    /// Snapshots the service's state applied up to <paramref name="index"/> by letting it write the state as a stream
    /// (<paramref name="write"/>) straight into storage: the state is never copied into one buffer, so a state larger
    /// than memory can hold twice can be snapshotted. The service must not apply anything while it writes (the caller
    /// awaits this before applying more). Once written and durable, the node makes it the group's snapshot and compacts
    /// the log in its own time (this does not wait for that: the node may be waiting for the service to take what it
    /// applies). Returns the bytes written, or null when no snapshot was taken: not newer than the one held, the
    /// previous one not stored yet, the node stopped, or no room on the disk (the old snapshot and the whole log stay).
    /// </summary>
    public async Task<long?> SnapshotAsync(ulong index, Func<Stream, CancellationToken, ValueTask> write, CancellationToken ct = default)
    {
        if (_stopped || index <= Core.SnapshotIndex || _pendingCommit is not null || _snapshotWriting) return null;
        var meta = Core.SnapshotMetaAt(index);
        SnapshotWriter? writer = null;
        _snapshotWriting = true;
        try
        {
            writer = await _storage.BeginSnapshotAsync(meta, ct);
            await write(writer.Data, ct);
            await writer.SealAsync(ct);
        }
        catch (WalDiskFullException e)
        {
            if (writer is not null) await writer.DisposeAsync();
            _log.LogWarning("{Node} group {Group}: no room for a snapshot, keeping the old one and the whole log: {Error}", Id, GroupId, e.Message);
            return null;
        }
        catch
        {
            if (writer is not null) await writer.DisposeAsync();
            throw;
        }
        finally
        {
            _snapshotWriting = false;
        }
        if (_stopped)
        {
            await writer.DisposeAsync();
            return null;
        }
        // Storage's other calls run on the pump, one at a time: the commit (rename, mark, compaction) goes there too.
        _pendingCommit = writer;
        Kick();
        return writer.Data.Length;
    }

    /// <summary>
    /// A linearizable read point: when the result is Ok, serve the read once the state machine has applied
    /// <c>Index</c>. On the leader: confirmed by a heartbeat round (one round trip), or at once while it holds a read
    /// lease (<see cref="RaftNodeOptions.LeaseReads"/>). On a follower with <see cref="RaftNodeOptions.FollowerReads"/>:
    /// the leader's read index, one round trip to it; without that option a follower answers NotLeader.
    /// </summary>
    public Task<ReadIndexResult> ReadIndexAsync()
    {
        if (_stopped || !Core.ReadIndex(++_nextReadId))
            return Task.FromResult(new ReadIndexResult(ReadIndexStatus.NotLeader, 0, _core?.Leader));
        var done = new TaskCompletionSource<ReadIndexResult>();
        _reads[_nextReadId] = new PendingRead(done, _ticks + 2 * _options.ElectionTicks);
        Kick();
        return done.Task;
    }

    /// <summary>Hands leadership to <paramref name="target"/>; true once it leads, false if that did not happen
    /// within an election timeout (or this node is not the leader).</summary>
    public Task<bool> TransferLeadershipAsync(NodeId target)
    {
        if (_stopped || !Core.TransferLeadership(target)) return Task.FromResult(false);
        var done = new TaskCompletionSource<bool>();
        _transfers.Add(new PendingTransfer(target, done, _ticks + 2 * _options.ElectionTicks));
        Kick();
        return done.Task;
    }

    /// <summary>Stops ticking and serving, fails every pending wait (a read point answers NotLeader, a leadership
    /// transfer "stopped during the transfer", a membership change Unknown "the node stopped"), waits for the batch in
    /// progress, and completes the apply stream.</summary>
    public async Task StopAsync()
    {
        // Not "if (_stopped)": a storage failure stops the node too, and the apply stream and storage must still close.
        if (_stopRequested) return;
        _stopRequested = true;
        _stopped = true;
        _ticker?.Dispose();
        _ctx.Router.Unmap(_options.Service);
        // Completing the stream first releases a pump blocked on a full apply queue nobody reads any more.
        _apply.Writer.TryComplete();
        // Before the batch in progress, which may be a slow fsync: a caller waiting on this node hears at once.
        FailWaiters("the node stopped");
        await _pump;
        // A snapshot written but not committed (the pump has stopped): its temporary file goes.
        if (_pendingCommit is { } uncommitted) await uncommitted.DisposeAsync();
        _pendingCommit = null;
        _apply.Writer.TryComplete();
        if (_storage is IAsyncDisposable disposable) await disposable.DisposeAsync();
    }

    // ------------------------------------------------------------ inbound

    ValueTask<ReadOnlyMemory<byte>> IRpcHandler.HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        throw new UnknownMethodException(method); // Raft speaks in one-way messages only

    void IRpcHandler.HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> payload)
    {
        if (_stopped || _core is null) return;
        Message message;
        try
        {
            message = MessageCodec.Decode(payload.Span);
        }
        catch (RaftCodecException e)
        {
            MalformedMessages++;
            _log.LogWarning("{Node} dropped a malformed message from {From}: {Error}", Id, from, e.Message);
            return;
        }
        if (message.From != from || message.To != Id) return; // misaddressed or spoofed
        _core.Step(message);
        Kick();
    }

    private void OnTick()
    {
        if (_stopped || _core is null) return;
        _ticks++;
        _core.Tick();
        ExpireWaiters();
        if (_ticks >= _nextProbeTick && (_unpersisted is not null || _blockedCompaction is not null || _storage.SpaceProblem is not null))
        {
            _probeDue = true;
            _nextProbeTick = _ticks + _options.ElectionTicks;
        }
        Kick();
    }

    // ------------------------------------------------------------ the Ready pump

    private void Kick()
    {
        if (_pumping || _stopped || _core is null) return;
        if (!_core.HasReady && _pendingCompaction is null && _pendingCommit is null && !_probeDue) return;
        _pump = PumpAsync();
    }

    /// <summary>
    /// Carries out Ready batches (and the service's compactions) until there is nothing to do.
    /// <para>A full disk stops writes, not the node: a batch whose persistence failed for lack of space
    /// (<see cref="WalDiskFullException"/>; nothing of it was acknowledged) stays outstanding and is retried, whole, once
    /// per election timeout after probing for space: to Raft that is only a very slow fsync. Until it succeeds the node
    /// sends and applies nothing more (a follower stops acknowledging, a leader stops heartbeating and is replaced).
    /// Before that point, storage that is merely low on space (<see cref="StorageProblem"/>) keeps working, so the
    /// service should stop proposing and keep serving reads. A compaction that does not fit is kept and retried the
    /// same way; the log stays whole meanwhile. Any other storage failure stops the node for good.</para>
    /// </summary>
    private async Task PumpAsync()
    {
        _pumping = true;
        try
        {
            // Let the rest of the current callback run first: proposals made together go out in one batch.
            await Task.Yield();
            while (!_stopped)
            {
                if (_probeDue)
                {
                    _probeDue = false;
                    await _storage.ProbeSpaceAsync();
                    _pendingCompaction ??= _blockedCompaction; // a newer one supersedes it
                    _blockedCompaction = null;
                    if (_unpersisted is { } stuck && !await ProcessReadyAsync(stuck, retry: true)) break;
                    continue;
                }
                if (_unpersisted is not null) break; // until the next probe
                if (_pendingCommit is { } written)
                {
                    // Cleared only once committed: until then SnapshotAsync takes no new snapshot (storage writes one at a time).
                    await using (written)
                    {
                        try
                        {
                            if (await _storage.CommitSnapshotAsync(written) is { } bytes) _core!.CompactTo(written.Meta, bytes);
                        }
                        catch (WalDiskFullException e)
                        {
                            _log.LogWarning("{Node} group {Group}: no room for a snapshot, keeping the old one and the whole log: {Error}", Id, GroupId, e.Message);
                        }
                    }
                    _pendingCommit = null;
                    continue;
                }
                if (_pendingCompaction is { } snapshot)
                {
                    _pendingCompaction = null;
                    try
                    {
                        await _storage.SaveSnapshotAsync(snapshot, discardLog: false);
                    }
                    catch (WalDiskFullException e)
                    {
                        if (_blockedCompaction is null) _log.LogWarning("{Node} group {Group}: no room for a snapshot, keeping the old one and the whole log: {Error}", Id, GroupId, e.Message);
                        _blockedCompaction = snapshot;
                    }
                    continue;
                }
                if (!_core!.HasReady) break;
                await ProcessReadyAsync(_core.Ready(), retry: false);
            }
        }
        catch (ChannelClosedException) when (_stopped)
        {
            // StopAsync closed the apply stream while we were writing to it.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Storage failed: we can no longer keep Raft's durability promises, so this node stops participating.
            _log.LogError(e, "{Node} group {Group} stops after a storage failure", Id, GroupId);
            _storageFailure = e;
            _stopped = true;
            _pendingCommit = null; // discarded with the storage
            _ticker?.Dispose();
            // Nothing will tick or apply any more: answer every waiter now rather than when (if ever) StopAsync is called.
            FailWaiters($"the node stopped after a storage failure: {e.Message}");
        }
        finally
        {
            _pumping = false;
        }
    }

    /// <summary>One Ready batch; false if its persistence failed for lack of space (it is then kept in
    /// <see cref="_unpersisted"/> and retried with <paramref name="retry"/>, which does not resend step 1).</summary>
    private async Task<bool> ProcessReadyAsync(Ready ready, bool retry)
    {
        var core = _core!;
        // 1. Leader replication goes out now, overlapping with our own fsync; the core counts our copy only after 2.
        if (!retry)
        {
            foreach (var m in ready.MessagesNow)
            {
                // Snapshot chunks carry only an offset from the core: their bytes come from storage (or from a
                // compaction not written yet). A chunk whose snapshot was replaced meanwhile is dropped; the leader
                // moves on to the newer one.
                if (m.Type != MessageType.Snapshot) SendMessage(m);
                else if (await SnapshotChunks.FillAsync(_storage, m, _pendingCompaction ?? _blockedCompaction) is { } chunk) SendMessage(chunk);
            }
        }

        // 2. Persist. A commit-index-only change is written but need not be synced (it can be recomputed).
        RaftSnapshot? installed;
        try
        {
            installed = await SnapshotChunks.PersistAsync(_storage, ready);
            if (ready.Entries.Count > 0) await _storage.AppendAsync(ready.Entries);
            if (ready.HardState is { } hs) await _storage.SaveHardStateAsync(hs);
            var termOrVoteChanged = ready.HardState is { } h && (h.Term != _syncedHardState.Term || h.VotedFor != _syncedHardState.VotedFor);
            if (ready.Entries.Count > 0 || termOrVoteChanged)
            {
                await _storage.SyncAsync();
                if (ready.HardState is { } synced) _syncedHardState = synced;
            }
        }
        catch (WalDiskFullException e)
        {
            if (_unpersisted is null)
                _log.LogError("{Node} group {Group}: cannot persist, the disk is full ({Error}); retrying every {Period} ms, sending and applying nothing until then",
                    Id, GroupId, e.Message, (long)(_options.TickInterval * _options.ElectionTicks).TotalMilliseconds);
            _unpersisted = ready;
            return false;
        }
        if (_unpersisted is not null)
        {
            _unpersisted = null;
            _log.LogWarning("{Node} group {Group}: disk space is available again; persisted the waiting batch", Id, GroupId);
        }
        if (_stopped) return true;

        // 3. Promises that needed the data on disk: votes, append acknowledgements.
        foreach (var m in ready.MessagesAfterPersist) SendMessage(m);

        // 4. Apply, in order.
        if (installed is not null)
        {
            await _apply.Writer.WriteAsync(ApplyMsg.FromSnapshot(installed));
            RaiseMembershipApplied(installed.Index, null, installed.Meta.Membership);
        }
        foreach (var e in ready.CommittedEntries)
        {
            // A membership change takes effect on this node as it is applied, in log order (etcd's ApplyConfChange).
            if (e.Kind == EntryKind.ConfChange) ApplyConfChange(core, e);
            else if (_confChanges.Count > 0) CompleteConfChanges(e, null);
            await _apply.Writer.WriteAsync(ApplyMsg.FromEntry(e));
        }
        foreach (var r in ready.ReadStates) CompleteRead(r);

        core.Advance(ready);
        CompleteTransfers();
        CheckConfChanges();
        return true;
    }

    private void SendMessage(Message m) => _ctx.Transport.Send(m.To, _methods[m.Type], MessageCodec.Encode(m));

    // ------------------------------------------------------------ waiters

    private void CompleteRead(ReadState r)
    {
        if (!_reads.Remove(r.RequestId, out var pending)) return;
        pending.Done.TrySetResult(r.Ok
            ? new ReadIndexResult(ReadIndexStatus.Ok, r.Index, Id)
            : new ReadIndexResult(ReadIndexStatus.NotLeader, 0, _core?.Leader));
    }

    /// <summary>The node will not advance any more: every pending read, transfer and membership change gets its
    /// failure now, so no caller waits forever (a transfer answers false, a change Unknown with <paramref name="why"/>).</summary>
    private void FailWaiters(string why)
    {
        foreach (var read in _reads.Values) read.Done.TrySetResult(new ReadIndexResult(ReadIndexStatus.NotLeader, 0, null));
        _reads.Clear();
        foreach (var t in _transfers) t.Done.TrySetResult(false);
        _transfers.Clear();
        FailConfChanges(why);
    }

    private void CompleteTransfers()
    {
        for (var i = _transfers.Count - 1; i >= 0; i--)
        {
            var t = _transfers[i];
            if (_core!.Leader != t.Target) continue;
            t.Done.TrySetResult(true);
            _transfers.RemoveAt(i);
        }
    }

    private void ExpireWaiters()
    {
        foreach (var (id, read) in _reads.Where(kv => kv.Value.DeadlineTick <= _ticks).ToList())
        {
            _reads.Remove(id);
            read.Done.TrySetResult(new ReadIndexResult(ReadIndexStatus.Timeout, 0, _core?.Leader));
        }
        CompleteTransfers();
        for (var i = _transfers.Count - 1; i >= 0; i--)
        {
            if (_transfers[i].DeadlineTick > _ticks) continue;
            _transfers[i].Done.TrySetResult(false);
            _transfers.RemoveAt(i);
        }
    }
}
