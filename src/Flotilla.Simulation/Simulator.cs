using System.Buffers.Binary;
using System.IO.Hashing;
using Flotilla.Runtime;
using Flotilla.Simulation.Network;

namespace Flotilla.Simulation;

/// <summary>
/// A deterministic discrete-event simulator: many nodes in one process, on one thread, in virtual time. Every
/// source of nondeterminism (message delays and drops, disk tearing, node randomness) is drawn from the seed, so
/// the same seed replays the same run bit for bit (<see cref="TraceHash"/> proves it).
/// <para>Protocol code runs unchanged: each node gets a <see cref="NodeContext"/> whose scheduler, clock,
/// network and disk are simulated. Awaits resume as simulator events; timers are simulator events.</para>
/// </summary>
public sealed class Simulator
{
    private readonly PriorityQueue<ScheduledEvent, (long Time, long Sequence)> _queue = new();
    private readonly Dictionary<NodeId, SimNode> _nodes = new();
    private readonly XxHash64 _trace = new();
    private readonly byte[] _traceRecord = new byte[32];
    private readonly SimSynchronizationContext _testerContext;
    private readonly Thread _thread;
    private readonly SimLog _log;
    private long _nowTicks;
    private long _sequence;
    private string? _foreignThreadViolation;

    public Simulator(ulong seed, SimulationOptions? options = null)
    {
        Seed = seed;
        Options = options ?? new SimulationOptions();
        _thread = Thread.CurrentThread;
        Random = new Random(DeriveSeed(seed, 0x5EED));
        _log = new SimLog(this, Options.LogLinesKept);
        _testerContext = new SimSynchronizationContext(this, null, 0);
        Time = new SimTimeProvider(this, _testerContext);
        Network = new SimNetwork(this, Options.Network, new Random(DeriveSeed(seed, 0x2E7)));
    }

    public ulong Seed { get; }

    public SimulationOptions Options { get; }

    /// <summary>Virtual time since the simulation started.</summary>
    public TimeSpan Now => new(_nowTicks);

    /// <summary>The simulator's own randomness (fault decisions, test choices). Nodes get their own streams.</summary>
    public Random Random { get; }

    /// <summary>The clock of the test body: use it for <c>Task.Delay</c> in scenarios.</summary>
    public TimeProvider Time { get; }

    public SimNetwork Network { get; }

    /// <summary>How many events have run.</summary>
    public long EventsRun { get; private set; }

    /// <summary>A hash of every event run so far (time, owner, kind, and what the network carried).</summary>
    public ulong TraceHash => _trace.GetCurrentHashAsUInt64();

    public IReadOnlyCollection<SimNode> Nodes => _nodes.Values;

    public SimNode Node(NodeId id) => _nodes.TryGetValue(id, out var node) ? node : throw new KeyNotFoundException($"no simulated node {id}");

    public SimNode Node(int id) => Node(new NodeId(id));

    /// <summary>
    /// Adds a node and boots it. <paramref name="boot"/> runs on the node's scheduler now and after every restart;
    /// it typically builds the service on <c>node.Context</c> and keeps it in <see cref="SimNode.Service"/>.
    /// </summary>
    public SimNode AddNode(NodeId id, Action<SimNode> boot, bool start = true)
    {
        if (_nodes.ContainsKey(id)) throw new InvalidOperationException($"node {id} already exists");
        var node = new SimNode(this, id, boot);
        _nodes.Add(id, node);
        Network.Attach(id);
        if (start) node.Start();
        return node;
    }

    /// <summary>Adds a node that serves nothing: a client. Its code runs through <see cref="SimNode.InvokeAsync{T}(Func{Task{T}})"/>.</summary>
    public SimNode AddClient(NodeId id) => AddNode(id, _ => { });

    /// <summary>A task that completes after <paramref name="delay"/> of virtual time (for test bodies).</summary>
    public Task Delay(TimeSpan delay, CancellationToken cancellationToken = default) => Task.Delay(delay, Time, cancellationToken);

    /// <summary>Writes a line into the simulation log (kept in a ring buffer, shown when a scenario fails).</summary>
    public void Log(string message) => _log.Write(null, message);

    internal SimLog LogSink => _log;

    /// <summary>The most recent log lines, oldest first.</summary>
    public IReadOnlyList<string> RecentLog() => _log.Recent();

    // ---- running -------------------------------------------------------------------------------------------

    /// <summary>Runs events for <paramref name="duration"/> of virtual time.</summary>
    public void RunFor(TimeSpan duration)
    {
        var until = _nowTicks + duration.Ticks;
        while (TryPeekTime(out var t) && t <= until) Step();
        _nowTicks = Math.Max(_nowTicks, until);
    }

    /// <summary>Runs until <paramref name="condition"/> holds (checked after every event) or <paramref name="limit"/>
    /// of virtual time has passed. Returns whether the condition held.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan limit)
    {
        var until = _nowTicks + limit.Ticks;
        while (!condition())
        {
            if (!TryPeekTime(out var t) || t > until)
            {
                _nowTicks = Math.Max(_nowTicks, until);
                return condition();
            }
            Step();
        }
        return true;
    }

    /// <summary>
    /// Runs an async test body in virtual time until it completes. The body runs on the simulator thread in its
    /// own context; it may <c>await sim.Delay(..)</c>, await work on nodes, and so on. Fails if the body does not
    /// finish within <paramref name="limit"/> of virtual time, or if nothing is left to run while it waits.
    /// </summary>
    public void RunTest(Func<Task> body, TimeSpan limit)
    {
        Task? task = null;
        ScheduleFromContext(_testerContext, TimeSpan.Zero, () => task = body());
        var until = _nowTicks + limit.Ticks;
        while (task is null || !task.IsCompleted)
        {
            if (!TryPeekTime(out var t))
                throw new SimulationStuckException($"nothing left to run at {Now} but the scenario has not finished (a deadlock: something awaits an event that will never come)");
            if (t > until)
                throw new TimeoutException($"scenario did not finish within {limit.TotalSeconds:0.###} s of virtual time");
            Step();
        }
        task.GetAwaiter().GetResult();
    }

    /// <summary>Runs one async body to completion and returns its result (see <see cref="RunTest"/>).</summary>
    public T RunTest<T>(Func<Task<T>> body, TimeSpan limit)
    {
        T result = default!;
        RunTest((Func<Task>)(async () => { result = await body(); }), limit);
        return result;
    }

    private bool TryPeekTime(out long time)
    {
        if (_foreignThreadViolation is { } violation) throw new NondeterminismException(violation);
        if (_queue.TryPeek(out _, out var key))
        {
            time = key.Time;
            return true;
        }
        time = 0;
        return false;
    }

    private void Step()
    {
        var ev = _queue.Dequeue();
        _nowTicks = Math.Max(_nowTicks, ev.Time);
        var owner = ev.Context.Owner;
        if (owner is not null && (!owner.IsUp || owner.Incarnation != ev.Context.Incarnation)) return; // died with its node
        if (owner is { IsPaused: true })
        {
            // A stopped process (SIGSTOP, a long GC pause): nothing of it runs, its timers and inbound messages wait.
            _held.Add(ev);
            return;
        }
        if (++EventsRun > Options.EventsMax)
            throw new SimulationStuckException($"more than {Options.EventsMax} events without finishing (a livelock?)");
        Trace(ev.Kind, owner?.Id.Value ?? -1, ev.Tag, ev.Size);
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(ev.Context);
        try
        {
            ev.Action();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    // ---- scheduling ----------------------------------------------------------------------------------------

    internal SimSynchronizationContext TesterContext => _testerContext;

    private readonly List<ScheduledEvent> _held = [];

    /// <summary>A paused node resumes: what it missed runs now, in the order it was due (a periodic timer fires once,
    /// not once per missed period, as after a real SIGCONT).</summary>
    internal void ReleaseHeld(SimNode node)
    {
        foreach (var ev in _held.Where(e => e.Context.Owner == node).ToList())
        {
            _held.Remove(ev);
            _queue.Enqueue(ev with { Time = _nowTicks }, (_nowTicks, _sequence++));
        }
    }

    internal void ScheduleFromContext(SimSynchronizationContext context, TimeSpan delay, Action action,
        EventKind kind = EventKind.Continuation, int tag = 0, int size = 0)
    {
        if (Thread.CurrentThread != _thread)
        {
            // Code escaped to another thread (Task.Run, ConfigureAwait(false) after thread-pool I/O, a real timer).
            // Its continuation cannot be ordered deterministically: fail the run instead of silently diverging.
            _foreignThreadViolation ??= $"a continuation was posted from thread {Environment.CurrentManagedThreadId} (not the simulator's): " +
                                        "simulated code must not use Task.Run, ConfigureAwait(false), real timers or real I/O";
            return;
        }
        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
        _queue.Enqueue(new ScheduledEvent(_nowTicks + delay.Ticks, context, action, kind, tag, size), (_nowTicks + delay.Ticks, _sequence++));
    }

    internal void AssertOnSimulatorThread(string what)
    {
        if (Thread.CurrentThread != _thread)
            throw new NondeterminismException($"{what} called from a thread that is not the simulator's");
    }

    private void Trace(EventKind kind, int node, int tag, int size)
    {
        var r = _traceRecord.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(r, _nowTicks);
        r[8] = (byte)kind;
        BinaryPrimitives.WriteInt32LittleEndian(r[9..], node);
        BinaryPrimitives.WriteInt32LittleEndian(r[13..], tag);
        BinaryPrimitives.WriteInt32LittleEndian(r[17..], size);
        _trace.Append(r[..21]);
    }

    /// <summary>Derives an independent 32-bit seed for one random stream (SplitMix64 finaliser).</summary>
    internal static int DeriveSeed(ulong seed, ulong stream)
    {
        var z = seed + 0x9E3779B97F4A7C15UL * (stream + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private readonly record struct ScheduledEvent(long Time, SimSynchronizationContext Context, Action Action, EventKind Kind, int Tag, int Size);
}

/// <summary>The simulation cannot make progress: a deadlock or livelock in the code under test.</summary>
public sealed class SimulationStuckException(string message) : Exception(message);

/// <summary>Simulated code did something that breaks replay (left the simulator thread).</summary>
public sealed class NondeterminismException(string message) : Exception(message);
