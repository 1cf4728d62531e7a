using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// What the Kestrel port lets clients cost. Every connection and every call holds memory (a request being received,
/// a reply waiting for a slow reader), so each is bounded: message sizes, connections, HTTP/2 streams per
/// connection, and calls in flight on the whole port. Peer traffic (<c>flotilla.peer.v1.Peer</c>) is exempt from
/// the message and call limits here; it has its own (<see cref="GrpcTransportOptions.MaxMessageBytes"/>).
/// </summary>
public sealed record ClientPortLimits
{
    /// <summary>Largest request a client service accepts; a larger one is refused with RESOURCE_EXHAUSTED from its
    /// length prefix, before it is buffered. Servers set it just above their own value limit.</summary>
    public int MaxReceiveMessageBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Largest reply a client service sends.</summary>
    public int MaxSendMessageBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Open connections at once (Kestrel refuses more).</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Concurrent HTTP/2 streams (calls) per connection; a client's further calls wait in its own queue, so one
    /// connection cannot hold many replies the server must buffer. The default is Kestrel's, because gRPC peers share
    /// the port and multiplex their calls on few connections; KV servers set 16 (<c>KvLimits.ClientPort</c>).</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>Client calls in progress on the port; beyond it a call fails at once with RESOURCE_EXHAUSTED (retry
    /// later) instead of queueing memory. A call counts until its reply is written, so unread replies count too.</summary>
    public int MaxConcurrentCalls { get; init; } = 512;

    public void Validate()
    {
        if (MaxReceiveMessageBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxReceiveMessageBytes));
        if (MaxSendMessageBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxSendMessageBytes));
        if (MaxConnections <= 0) throw new ArgumentOutOfRangeException(nameof(MaxConnections));
        if (MaxStreamsPerConnection <= 0) throw new ArgumentOutOfRangeException(nameof(MaxStreamsPerConnection));
        if (MaxConcurrentCalls <= 0) throw new ArgumentOutOfRangeException(nameof(MaxConcurrentCalls));
    }

    internal void ApplyTo(KestrelServerLimits limits)
    {
        limits.MaxConcurrentConnections = MaxConnections;
        limits.MaxConcurrentUpgradedConnections = MaxConnections;
        limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
    }

    /// <summary>Path prefix of the peer service, which the call limit leaves alone (its one-way streams live long).</summary>
    internal const string PeerPathPrefix = "/flotilla.peer.v1.Peer/";
}

/// <summary>Middleware that counts client calls in flight and refuses those over <see cref="ClientPortLimits.MaxConcurrentCalls"/>
/// with a gRPC trailers-only RESOURCE_EXHAUSTED (so clients see a gRPC status, not an HTTP error).</summary>
internal sealed class ClientCallLimiter(ClientPortLimits limits)
{
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.StartsWithSegments(ClientPortLimits.PeerPathPrefix.TrimEnd('/'), StringComparison.Ordinal))
        {
            await next(context);
            return;
        }
        if (Interlocked.Increment(ref _inFlight) > limits.MaxConcurrentCalls)
        {
            Interlocked.Decrement(ref _inFlight);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "8"; // RESOURCE_EXHAUSTED
            context.Response.Headers["grpc-message"] = $"server busy: {limits.MaxConcurrentCalls} calls in progress; retry later";
            return;
        }
        try
        {
            await next(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
