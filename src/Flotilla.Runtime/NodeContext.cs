using Flotilla.Runtime.Network;
using Flotilla.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flotilla.Runtime;

/// <summary>
/// Everything protocol code running on one node may touch: its identity, clock, randomness, network, disk
/// and scheduler. The simulation runtime and the real runtime each build one per node; protocol code takes a
/// <see cref="NodeContext"/> and never reaches for sockets, files, <c>DateTime.Now</c> or the thread pool.
/// <para>Threading rule: all of a node's code runs on <see cref="Scheduler"/>, one callback at a time.
/// Inbound calls are delivered there, and awaits resume there (do not use <c>ConfigureAwait(false)</c> or
/// <c>Task.Run</c> in protocol code).</para>
/// </summary>
public sealed class NodeContext
{
    public NodeContext(NodeId id, TimeProvider time, Random random, ITransport transport, RpcRouter router,
        IFileSystem storage, SynchronizationContext scheduler, ILoggerFactory? logs = null)
    {
        Id = id;
        Time = time;
        Random = random;
        Transport = transport;
        Router = router;
        Storage = storage;
        Scheduler = scheduler;
        Logs = logs ?? NullLoggerFactory.Instance;
    }

    public NodeId Id { get; }

    /// <summary>The node's clock: virtual in simulation. Timers fire on <see cref="Scheduler"/>.</summary>
    public TimeProvider Time { get; }

    /// <summary>The node's randomness: seeded from the simulation seed, so runs replay exactly.</summary>
    public Random Random { get; }

    /// <summary>Outbound network.</summary>
    public ITransport Transport { get; }

    /// <summary>Inbound network: register services here.</summary>
    public RpcRouter Router { get; }

    /// <summary>The node's private, durable directory.</summary>
    public IFileSystem Storage { get; }

    /// <summary>The node's single logical thread.</summary>
    public SynchronizationContext Scheduler { get; }

    public ILoggerFactory Logs { get; }

    /// <summary>Runs <paramref name="action"/> on the node's scheduler (fire and forget).</summary>
    public void Post(Action action) => Scheduler.Post(static a => ((Action)a!)(), action);

    /// <summary>Like <see cref="Post"/>, for a transport thread that only feeds this node: when the node is idle the
    /// action runs on the calling thread at once (see <see cref="Execution.SerialSynchronizationContext.Execute"/>).</summary>
    public void Execute(Action action)
    {
        if (Scheduler is Execution.SerialSynchronizationContext serial) serial.Execute(static a => ((Action)a!)(), action);
        else Post(action);
    }

    /// <summary>Runs an async function on the node's scheduler and returns its result to any caller thread.</summary>
    public Task<T> InvokeAsync<T>(Func<Task<T>> function)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(async () =>
        {
            try { done.SetResult(await function()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }
}
