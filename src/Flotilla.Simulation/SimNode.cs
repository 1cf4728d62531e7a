using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Simulation.Network;
using Flotilla.Simulation.Storage;

namespace Flotilla.Simulation;

/// <summary>
/// One simulated machine. Its disk (<see cref="Storage"/>) survives crashes; everything else — the running code,
/// pending continuations and timers, the registered services — belongs to one incarnation and dies with it.
/// </summary>
public sealed class SimNode
{
    private readonly Simulator _sim;
    private readonly Action<SimNode> _boot;
    private readonly List<Action<Exception>> _pendingInvokes = [];
    private readonly HashSet<Action> _crashCallbacks = [];
    private NodeContext? _context;
    private SimSynchronizationContext? _scheduler;

    internal SimNode(Simulator sim, NodeId id, Action<SimNode> boot)
    {
        _sim = sim;
        _boot = boot;
        Id = id;
        Storage = new SimFileSystem();
    }

    public NodeId Id { get; }

    public Simulator Simulator => _sim;

    /// <summary>Whether the node is running (started and not crashed).</summary>
    public bool IsUp { get; private set; }

    /// <summary>Whether the node is paused (<see cref="Pause"/>): up, but running nothing.</summary>
    public bool IsPaused { get; private set; }

    /// <summary>
    /// Stops the node's process without killing it, like SIGSTOP or a stop-the-world GC: none of its code, timers or
    /// message handlers run, while virtual time (its monotonic clock) keeps going. Messages sent to it wait and are
    /// handled after <see cref="Resume"/>; its memory and disk are untouched. A crash ends the pause.
    /// </summary>
    public void Pause()
    {
        if (!IsUp || IsPaused) return;
        IsPaused = true;
        _sim.Log($"{Id} pauses");
    }

    /// <summary>Lets a paused node run again (SIGCONT): what it missed runs now, in order.</summary>
    public void Resume()
    {
        if (!IsPaused) return;
        IsPaused = false;
        _sim.Log($"{Id} resumes");
        _sim.ReleaseHeld(this);
    }

    /// <summary>Counts starts: 1 for the first boot, +1 per restart.</summary>
    public int Incarnation { get; private set; }

    /// <summary>The node's disk; survives crashes with power-loss semantics.</summary>
    public SimFileSystem Storage { get; }

    /// <summary>The current incarnation's context: what protocol code on this node uses.</summary>
    public NodeContext Context => _context ?? throw new InvalidOperationException($"{Id} has never been started");

    /// <summary>Whatever the boot callback built (e.g. the Raft node); cleared when the node crashes.</summary>
    public object? Service { get; set; }

    public T GetService<T>() where T : class =>
        Service as T ?? throw new InvalidOperationException($"{Id} has no service of type {typeof(T).Name} (is it up?)");

    internal RpcRouter? Router => IsUp ? _context?.Router : null;

    internal SimSynchronizationContext? Scheduler => IsUp ? _scheduler : null;

    /// <summary>Boots a stopped node: a new incarnation with fresh memory and the old disk.</summary>
    public void Start()
    {
        if (IsUp) throw new InvalidOperationException($"{Id} is already up");
        Incarnation++;
        IsUp = true;
        var scheduler = new SimSynchronizationContext(_sim, this, Incarnation);
        var time = new SimTimeProvider(_sim, scheduler);
        var random = new Random(Simulator.DeriveSeed(_sim.Seed, ((ulong)(uint)Id.Value << 24) | (uint)Incarnation));
        var diskRandom = new Random(Simulator.DeriveSeed(_sim.Seed, ((ulong)(uint)Id.Value << 24) | (uint)Incarnation | (1UL << 60)));
        var (min, max) = (_sim.Options.FsyncLatencyMin, _sim.Options.FsyncLatencyMax);
        Storage.FlushDelay = ct => new ValueTask(Task.Delay(min + (max - min) * diskRandom.NextDouble(), time, ct));
        _scheduler = scheduler;
        _context = new NodeContext(Id, time, random, new SimTransport(_sim.Network, this, scheduler), new RpcRouter(),
            Storage, scheduler, _sim.LogSink.ForNode(Id));
        _sim.Log($"{Id} starts (incarnation {Incarnation})");
        _sim.ScheduleFromContext(scheduler, TimeSpan.Zero, () => _boot(this), EventKind.Boot);
    }

    /// <summary>
    /// Power loss: the node stops at once (no pending continuation, timer or message handler of it runs again),
    /// and its disk keeps only what was durable plus a random, possibly torn, part of what was not.
    /// </summary>
    public void Crash()
    {
        if (!IsUp) return;
        IsUp = false;
        var wasPaused = IsPaused;
        IsPaused = false;
        Service = null;
        Storage.Crash(new Random(Simulator.DeriveSeed(_sim.Seed, ((ulong)(uint)Id.Value << 24) | (uint)Incarnation | (1UL << 61))));
        _sim.Log($"{Id} crashes");
        if (wasPaused) _sim.ReleaseHeld(this); // its held events are dropped as they come up (dead incarnation)
        var pending = _pendingInvokes.ToArray();
        _pendingInvokes.Clear();
        foreach (var fail in pending) fail(new NodeCrashedException(Id));
        var callbacks = _crashCallbacks.ToArray();
        _crashCallbacks.Clear();
        foreach (var callback in callbacks) callback();
    }

    /// <summary>Runs <paramref name="callback"/> if this incarnation crashes (e.g. to fail calls it was serving,
    /// as a reset connection would). Returns an action that unregisters it.</summary>
    internal Action OnCrash(Action callback)
    {
        _crashCallbacks.Add(callback);
        return () => _crashCallbacks.Remove(callback);
    }

    /// <summary>Crash (if up) and boot again.</summary>
    public void Restart()
    {
        Crash();
        Start();
    }

    /// <summary>Runs <paramref name="action"/> on this node's scheduler.</summary>
    public void Post(Action action)
    {
        var scheduler = Scheduler ?? throw new NodeCrashedException(Id);
        _sim.ScheduleFromContext(scheduler, TimeSpan.Zero, action);
    }

    /// <summary>
    /// Runs an async function on this node's scheduler and returns its result to the caller's context.
    /// Fails with <see cref="NodeCrashedException"/> if the node is down or crashes before the function finishes.
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<Task<T>> function)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<Exception> fail = e => done.TrySetException(e);
        _pendingInvokes.Add(fail);
        Post(async () =>
        {
            try { done.TrySetResult(await function()); }
            catch (Exception e) { done.TrySetException(e); }
            finally { _pendingInvokes.Remove(fail); }
        });
        return done.Task;
    }

    public Task<T> InvokeAsync<T>(Func<T> function) => InvokeAsync(() => Task.FromResult(function()));

    public Task InvokeAsync(Func<Task> function) => InvokeAsync(async () => { await function(); return true; });

    public override string ToString() => $"{Id}{(IsUp ? "" : " (down)")}";
}

/// <summary>The node crashed (or was down) while the caller waited on it.</summary>
public sealed class NodeCrashedException(NodeId node) : Exception($"{node} is down")
{
    public NodeId Node { get; } = node;
}
