using System.Text;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Simulation.Network;

/// <summary>
/// The simulated network: delivers calls and messages between simulated nodes with seeded delays, drops and
/// reordering, and cuts links on demand. A message is delivered only if its link is up both when it is sent and
/// when it arrives; a reply needs the reverse link, and is lost if the server crashed after receiving the request.
/// </summary>
public sealed class SimNetwork
{
    private readonly Simulator _sim;
    private readonly Random _random;
    private readonly HashSet<NodeId> _nodes = [];
    private readonly HashSet<NodeId> _disconnected = [];
    private readonly HashSet<(NodeId From, NodeId To)> _blocked = [];

    internal SimNetwork(Simulator sim, NetworkOptions options, Random random)
    {
        _sim = sim;
        _random = random;
        Options = options;
    }

    /// <summary>The current fault model; replace it (with <c>with</c>) to change faults mid-run.</summary>
    public NetworkOptions Options { get; set; }

    /// <summary>Shorthand for toggling <see cref="NetworkOptions.Reliable"/>.</summary>
    public bool Reliable
    {
        get => Options.Reliable;
        set => Options = Options with { Reliable = value };
    }

    public bool LongReordering
    {
        get => Options.LongReordering;
        set => Options = Options with { LongReordering = value };
    }

    public bool LongDelays
    {
        get => Options.LongDelays;
        set => Options = Options with { LongDelays = value };
    }

    public NetworkStats Stats { get; } = new();

    internal void Attach(NodeId node) => _nodes.Add(node);

    // ---- topology ------------------------------------------------------------------------------------------

    /// <summary>Cuts every link to and from <paramref name="node"/>.</summary>
    public void Disconnect(NodeId node)
    {
        _disconnected.Add(node);
        _sim.Log($"network: {node} disconnected");
    }

    /// <summary>Restores <paramref name="node"/>'s links (except those cut by a partition or a block).</summary>
    public void Connect(NodeId node)
    {
        _disconnected.Remove(node);
        _sim.Log($"network: {node} connected");
    }

    public bool IsConnected(NodeId node) => !_disconnected.Contains(node);

    /// <summary>
    /// Splits the listed nodes into groups that cannot talk to each other (both directions). Replaces any earlier
    /// partition or block; nodes not listed keep all their links.
    /// </summary>
    public void Partition(params IReadOnlyCollection<NodeId>[] groups)
    {
        _blocked.Clear();
        for (var i = 0; i < groups.Length; i++)
        for (var j = 0; j < groups.Length; j++)
        {
            if (i == j) continue;
            foreach (var a in groups[i])
            foreach (var b in groups[j])
                _blocked.Add((a, b));
        }
        _sim.Log($"network: partition {string.Join(" | ", groups.Select(g => string.Join(",", g)))}");
    }

    /// <summary>Cuts the link from <paramref name="from"/> to <paramref name="to"/> only (an asymmetric partition).</summary>
    public void BlockOneWay(NodeId from, NodeId to)
    {
        _blocked.Add((from, to));
        _sim.Log($"network: {from} -> {to} blocked");
    }

    /// <summary>Cuts both directions between two nodes.</summary>
    public void Block(NodeId a, NodeId b)
    {
        BlockOneWay(a, b);
        BlockOneWay(b, a);
    }

    public void Unblock(NodeId a, NodeId b)
    {
        _blocked.Remove((a, b));
        _blocked.Remove((b, a));
    }

    /// <summary>Removes every partition, block and disconnection.</summary>
    public void Heal()
    {
        _blocked.Clear();
        _disconnected.Clear();
        _sim.Log("network: healed");
    }

    /// <summary>Whether a message sent now from <paramref name="from"/> would reach <paramref name="to"/>'s network interface.</summary>
    public bool LinkUp(NodeId from, NodeId to) =>
        _nodes.Contains(to) && !_disconnected.Contains(from) && !_disconnected.Contains(to) && !_blocked.Contains((from, to));

    // ---- delivery ------------------------------------------------------------------------------------------

    internal Task<RpcReply> Call(SimNode caller, SimSynchronizationContext callerContext, NodeId target, string method,
        ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromResult(RpcReply.Fail(RpcStatus.Cancelled));
        var from = caller.Id;
        var payload = request.ToArray();
        var tag = MethodTag(method);
        Stats.CountCall(from, method, payload.Length);

        var done = new TaskCompletionSource<RpcReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => done.TrySetResult(RpcReply.Fail(RpcStatus.Cancelled)));
            done.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        void FailLater(RpcStatus status, string why, TimeSpan delay) =>
            _sim.ScheduleFromContext(callerContext, delay, () => done.TrySetResult(RpcReply.Fail(status, why)), EventKind.CallFailure, tag);

        if (!LinkUp(from, target))
        {
            FailLater(RpcStatus.Unavailable, $"{target} unreachable", UnreachableDelay());
            return done.Task;
        }
        if (Drops())
        {
            FailLater(RpcStatus.Timeout, "request lost", Delay());
            return done.Task;
        }

        _sim.ScheduleFromContext(_sim.TesterContext, Delay(), () =>
        {
            var server = _sim.Node(target);
            var serverContext = server.Scheduler;
            var router = server.Router;
            if (serverContext is null || router is null || !LinkUp(from, target))
            {
                FailLater(RpcStatus.Unavailable, $"{target} unreachable", UnreachableDelay());
                return;
            }
            var serverIncarnation = server.Incarnation;
            // If the server dies while handling the call, the caller learns it the way a reset connection tells it.
            var forget = server.OnCrash(() => FailLater(RpcStatus.Unavailable, $"{target} crashed", UnreachableDelay()));
            _sim.ScheduleFromContext(serverContext, TimeSpan.Zero, async () =>
            {
                ReadOnlyMemory<byte> reply;
                RpcStatus status = RpcStatus.Ok;
                string? error = null;
                try
                {
                    reply = await router.HandleCallAsync(from, method, payload, CancellationToken.None);
                }
                catch (Exception e)
                {
                    (reply, status, error) = (ReadOnlyMemory<byte>.Empty, RpcStatus.Failed, e.Message);
                }
                forget();
                SendReply(caller, callerContext, server, serverIncarnation, method, tag, reply, status, error, done);
            }, EventKind.RequestDelivery, tag, payload.Length);
        }, EventKind.RequestDelivery, tag, payload.Length);
        return done.Task;
    }

    private void SendReply(SimNode caller, SimSynchronizationContext callerContext, SimNode server, int serverIncarnation,
        string method, int tag, ReadOnlyMemory<byte> reply, RpcStatus status, string? error, TaskCompletionSource<RpcReply> done)
    {
        var bytes = reply.ToArray();
        Stats.CountReply(server.Id, method, bytes.Length);
        var (from, to) = (server.Id, caller.Id);

        void Lost(string why, TimeSpan delay) =>
            _sim.ScheduleFromContext(callerContext, delay, () => done.TrySetResult(RpcReply.Fail(RpcStatus.Timeout, why)), EventKind.CallFailure, tag);

        if (!server.IsUp || server.Incarnation != serverIncarnation) return; // the server died mid-call: nothing is sent
        if (!LinkUp(from, to)) { Lost("reply lost", UnreachableDelay()); return; }
        if (Drops()) { Lost("reply lost", Delay()); return; }
        var delay = Options.LongReordering && _random.NextDouble() < Options.LongReorderingProbability
            ? TimeSpan.FromMilliseconds(200 + _random.Next(1 + _random.Next(2000)))
            : Delay();
        _sim.ScheduleFromContext(callerContext, delay, () =>
        {
            if (!LinkUp(from, to)) { done.TrySetResult(RpcReply.Fail(RpcStatus.Timeout, "reply lost")); return; }
            done.TrySetResult(status == RpcStatus.Ok ? RpcReply.Ok(bytes) : RpcReply.Fail(status, error));
        }, EventKind.ReplyDelivery, tag, bytes.Length);
    }

    internal void Send(SimNode sender, NodeId target, string method, ReadOnlyMemory<byte> message)
    {
        var from = sender.Id;
        var payload = message.ToArray();
        var tag = MethodTag(method);
        Stats.CountMessage(from, method, payload.Length);
        if (!LinkUp(from, target) || Drops()) return;
        var delay = Options.LongReordering && _random.NextDouble() < Options.LongReorderingProbability / 10
            ? TimeSpan.FromMilliseconds(200 + _random.Next(1 + _random.Next(2000)))
            : Delay();
        _sim.ScheduleFromContext(_sim.TesterContext, delay, () =>
        {
            var receiver = _sim.Node(target);
            var context = receiver.Scheduler;
            var router = receiver.Router;
            if (context is null || router is null || !LinkUp(from, target)) return;
            _sim.ScheduleFromContext(context, TimeSpan.Zero, () => router.HandleMessage(from, method, payload), EventKind.MessageDelivery, tag, payload.Length);
        }, EventKind.MessageDelivery, tag, payload.Length);
    }

    private bool Drops() => !Options.Reliable && _random.NextDouble() < Options.DropRate;

    private TimeSpan Delay()
    {
        var max = Options.Reliable ? Options.ReliableDelayMax : Options.UnreliableDelayMax;
        return TimeSpan.FromTicks((long)(_random.NextDouble() * max.Ticks));
    }

    private TimeSpan UnreachableDelay() =>
        Options.LongDelays
            ? TimeSpan.FromTicks((long)(_random.NextDouble() * Options.LongDelayMax.Ticks))
            : TimeSpan.FromMilliseconds(_random.Next(100));

    /// <summary>A stable (per-process-independent) hash of a method name for the trace.</summary>
    private static int MethodTag(string method)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(method)) hash = (hash ^ b) * 16777619u;
        return (int)hash;
    }
}
