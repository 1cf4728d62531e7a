namespace Flotilla.Transport.Grpc;

/// <summary>Limits and timings of the real peer network. The defaults suit a LAN cluster.</summary>
public sealed record GrpcTransportOptions
{
    /// <summary>Largest request, reply or message, sent or received (both the client and the server enforce it). The
    /// default carries Raft's largest message with room to spare (an append batch is <c>MaxAppendBytes</c>, 1 MiB, or
    /// one entry; a snapshot chunk is 256 KiB) while bounding what one peer connection can make a node buffer.</summary>
    public int MaxMessageBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>What one framed-TCP peer listener lets a connection cost (connections, first-frame and idle timeouts).</summary>
    public Tcp.TcpListenerLimits TcpLimits { get; init; } = new();

    /// <summary>One-way messages queued per peer while the stream is slow or down; beyond this they are dropped.</summary>
    public int OutboundQueueLength { get; init; } = 4096;

    public SendOverflowPolicy OverflowPolicy { get; init; } = SendOverflowPolicy.DropOldest;

    /// <summary>A call whose token carries no deadline still ends after this (as <c>Timeout</c>): nothing hangs forever.</summary>
    public TimeSpan CallDeadlineMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>TCP connect attempts give up after this (matters for addresses that drop SYNs).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>HTTP/2 PING interval on idle connections, so a dead peer behind a silent network is noticed.</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait before reopening a broken one-way stream; doubles per failure up to <see cref="ReconnectBackoffMax"/>.</summary>
    public TimeSpan ReconnectBackoffMin { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Inbound one-way messages from one stream waiting for the node's scheduler; when reached the server
    /// stops reading and HTTP/2 flow control pushes back on the sender, whose own queue then drops.</summary>
    public int InboundPendingMax { get; init; } = 1024;

    public void Validate()
    {
        if (MaxMessageBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxMessageBytes));
        if (OutboundQueueLength <= 0) throw new ArgumentOutOfRangeException(nameof(OutboundQueueLength));
        if (InboundPendingMax <= 0) throw new ArgumentOutOfRangeException(nameof(InboundPendingMax));
        TcpLimits.Validate();
        if (CallDeadlineMax <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CallDeadlineMax));
        if (ReconnectBackoffMin <= TimeSpan.Zero || ReconnectBackoffMax < ReconnectBackoffMin)
            throw new ArgumentOutOfRangeException(nameof(ReconnectBackoffMin));
    }
}
