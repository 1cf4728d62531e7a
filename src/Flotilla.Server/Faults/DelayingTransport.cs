using System.Diagnostics;
using System.Threading.Channels;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Server.Faults;

/// <summary>
/// The peer transport of a fault-injection run with <see cref="LinkDelays"/> applied on the way out: a one-way message
/// to a slowed destination is held for its delay and then sent, in the order it was sent (a link with jitter is slow
/// and uneven but does not reorder, like a real queue); a call waits the delay once, before it is sent. Traffic to
/// destinations without a delay goes straight through. Only protocol code's outbound traffic passes here; inbound
/// traffic is delayed by the sender's own table.
/// </summary>
public sealed class DelayingTransport(ITransport inner, LinkDelays delays) : ITransport
{
    private readonly Dictionary<int, Link> _links = [];

    public NodeId Self => inner.Self;

    public async Task<RpcReply> CallAsync(NodeId target, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        var delay = delays.Next(target);
        if (delay > TimeSpan.Zero)
        {
            var copy = request.ToArray();
            try { await Task.Delay(delay, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return RpcReply.Fail(RpcStatus.Cancelled, "cancelled while held by an injected delay"); }
            request = copy;
        }
        return await inner.CallAsync(target, method, request, cancellationToken).ConfigureAwait(false);
    }

    public void Send(NodeId target, string method, ReadOnlyMemory<byte> message)
    {
        var delay = delays.Next(target);
        var link = LinkTo(target);
        if (delay == TimeSpan.Zero && link.Idle)
        {
            inner.Send(target, method, message);
            return;
        }
        link.Enqueue(delay, method, message.ToArray());
    }

    private Link LinkTo(NodeId target)
    {
        lock (_links)
        {
            if (!_links.TryGetValue(target.Value, out var link)) _links[target.Value] = link = new Link(inner, target);
            return link;
        }
    }

    /// <summary>The held messages to one destination, sent in order, each no earlier than its time.</summary>
    private sealed class Link
    {
        private readonly ITransport _inner;
        private readonly NodeId _target;
        private readonly Channel<(long Due, string Method, byte[] Message)> _held = Channel.CreateUnbounded<(long, string, byte[])>(new() { SingleReader = true });
        private long _lastDue;
        private int _pending;

        public Link(ITransport inner, NodeId target)
        {
            _inner = inner;
            _target = target;
            _ = Task.Run(PumpAsync);
        }

        public bool Idle => Volatile.Read(ref _pending) == 0;

        public void Enqueue(TimeSpan delay, string method, byte[] message)
        {
            lock (this)
            {
                // Never before the one ahead of it: jitter makes the link uneven, not out of order.
                var due = Math.Max(Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency), _lastDue);
                _lastDue = due;
                Interlocked.Increment(ref _pending);
                _held.Writer.TryWrite((due, method, message));
            }
        }

        private async Task PumpAsync()
        {
            await foreach (var (due, method, message) in _held.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (left > TimeSpan.Zero) await Task.Delay(left).ConfigureAwait(false);
                try { _inner.Send(_target, method, message); }
                catch (ObjectDisposedException) { }
                finally { Interlocked.Decrement(ref _pending); }
            }
        }
    }
}
