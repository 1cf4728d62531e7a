using System.Collections.Concurrent;

namespace Flotilla.Runtime.Execution;

/// <summary>
/// The real runtime's node scheduler: runs posted callbacks one at a time, in the order posted, on thread-pool
/// threads. Code that awaits while this is current resumes here, so a node's protocol code is single-threaded
/// in the real runtime exactly as it is in the simulator, and needs no locks.
/// </summary>
public sealed class SerialSynchronizationContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Action<Exception>? _onError;
    private int _draining;

    public SerialSynchronizationContext(Action<Exception>? onError = null) => _onError = onError;

    public override void Post(SendOrPostCallback d, object? state)
    {
        _queue.Enqueue((d, state));
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0) DrainOnPool();
    }

    /// <summary>How many callbacks <see cref="Execute"/> runs on the caller's thread before it hands the rest of
    /// the queue to a pool thread: a reader thread that drains a busy node must get back to its socket.</summary>
    public const int InlineBudget = 64;

    /// <summary>
    /// Like <see cref="Post"/>, but when the context is idle and the calling thread runs no scheduler of its own
    /// (say a transport's dedicated reader thread), runs the callback and anything posted meanwhile right here
    /// instead of waking a pool thread to do it. A message that arrives at an idle node then costs no thread hop.
    /// After <see cref="InlineBudget"/> callbacks with more still queued, the rest is handed to a pool thread.
    /// </summary>
    public void Execute(SendOrPostCallback d, object? state)
    {
        _queue.Enqueue((d, state));
        if (Interlocked.CompareExchange(ref _draining, 1, 0) != 0) return; // the current drainer will run it
        if (Current is null) Drain(InlineBudget);
        else DrainOnPool();
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Current == this)
        {
            d(state);
            return;
        }
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        Post(_ =>
        {
            try { d(state); }
            catch (Exception e) { error = e; }
            finally { done.Set(); }
        }, null);
        done.Wait();
        if (error is not null) throw new AggregateException(error);
    }

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Hands the drainer's role (already claimed through <c>_draining</c>) to a pool thread.</summary>
    private void DrainOnPool() => ThreadPool.UnsafeQueueUserWorkItem(static self => self.Drain(int.MaxValue), this, preferLocal: false);

    private void Drain(int budget)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            while (true)
            {
                while (_queue.TryDequeue(out var item))
                {
                    try { item.Callback(item.State); }
                    catch (Exception e) when (_onError is not null) { _onError(e); }
                    if (--budget > 0 || _queue.IsEmpty) continue;
                    // Out of budget with work left: a pool thread carries on (we stay the one drainer until it does).
                    DrainOnPool();
                    return;
                }
                Volatile.Write(ref _draining, 0);
                // A post may have slipped in between the last dequeue and the reset; claim it or leave it
                // to the poster who saw _draining == 0.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0) break;
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }
}
