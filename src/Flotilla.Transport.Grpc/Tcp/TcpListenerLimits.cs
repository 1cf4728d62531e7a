namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// What one framed-TCP peer listener lets a connection cost. The port is reachable by anything on the network, so
/// each connection's threads, buffers and lifetime are bounded: a frame larger than
/// <see cref="GrpcTransportOptions.MaxMessageBytes"/> (plus header) closes the connection before its body is read.
/// </summary>
public sealed record TcpListenerLimits
{
    /// <summary>Open inbound connections at once (each holds one reader thread). A node has a handful of peers, each
    /// with two connections (calls, one-way messages); connections beyond this are closed as soon as accepted.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>A new connection must deliver its first whole frame within this, or it is closed: a socket that
    /// connects and sends nothing (or dribbles) does not keep a thread.</summary>
    public TimeSpan FirstFrameTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection that completes no frame for this long while none of its calls is running is closed.
    /// Longer than <see cref="GrpcTransportOptions.CallDeadlineMax"/>; a peer's next call reconnects.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public void Validate()
    {
        if (MaxConnections <= 0) throw new ArgumentOutOfRangeException(nameof(MaxConnections));
        if (FirstFrameTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(FirstFrameTimeout));
        if (IdleTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(IdleTimeout));
    }
}
