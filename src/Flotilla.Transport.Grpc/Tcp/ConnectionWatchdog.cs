using System.Collections.Concurrent;

namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// Enforces <see cref="TcpListenerLimits"/> on a listener's open connections: how many may be open, and how long one
/// may go without completing a frame. The reader threads block in the socket read; closing a connection's stream is
/// what ends that read, so an expired connection is closed from this timer (an edge of the process, not protocol code).
/// </summary>
internal sealed class ConnectionWatchdog : IDisposable
{
    private readonly TcpListenerLimits _limits;
    private readonly Action<string> _onClosed;
    private readonly ConcurrentDictionary<Watched, byte> _open = new();
    private readonly Timer _timer;
    private int _count;

    public ConnectionWatchdog(TcpListenerLimits limits, Action<string> onClosed)
    {
        _limits = limits;
        _onClosed = onClosed;
        var shortest = limits.FirstFrameTimeout < limits.IdleTimeout ? limits.FirstFrameTimeout : limits.IdleTimeout;
        var period = TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _timer = new Timer(_ => Sweep(), null, period, period);
    }

    /// <summary>Connections open now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Takes a slot for a new connection, or null when <see cref="TcpListenerLimits.MaxConnections"/> are open.</summary>
    public Watched? TryAdmit(IDisposable connection)
    {
        if (Interlocked.Increment(ref _count) > _limits.MaxConnections)
        {
            Interlocked.Decrement(ref _count);
            return null;
        }
        var watched = new Watched(this, connection);
        _open[watched] = 0;
        return watched;
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        foreach (var watched in _open.Keys)
        {
            if (watched.ExpiredReason(now, _limits) is not { } reason) continue;
            _onClosed(reason);
            watched.Close();
        }
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>One admitted connection: the reader reports each whole frame; disposing gives the slot back.</summary>
    internal sealed class Watched(ConnectionWatchdog owner, IDisposable connection) : IDisposable
    {
        /// <summary>Calls of this connection still being answered; set by the reader once it has its table.</summary>
        public Func<int> CallsRunning { get; set; } = static () => 0;

        private readonly long _opened = Environment.TickCount64;
        private long _lastFrame = -1;
        private int _released;

        public void FrameArrived() => Volatile.Write(ref _lastFrame, Environment.TickCount64);

        internal string? ExpiredReason(long now, TcpListenerLimits limits)
        {
            var last = Volatile.Read(ref _lastFrame);
            if (last < 0)
                return now - _opened >= (long)limits.FirstFrameTimeout.TotalMilliseconds
                    ? $"sent no whole frame within {limits.FirstFrameTimeout.TotalSeconds:0.###} s of connecting" : null;
            // A call in progress may legitimately keep the peer silent until its reply.
            return CallsRunning() == 0 && now - last >= (long)limits.IdleTimeout.TotalMilliseconds
                ? $"idle for {limits.IdleTimeout.TotalSeconds:0.###} s" : null;
        }

        internal void Close()
        {
            try { connection.Dispose(); }
            catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            owner._open.TryRemove(this, out _);
            Interlocked.Decrement(ref owner._count);
        }
    }
}
