using System.Collections.Concurrent;
using System.Text;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// <see cref="ITransport"/> over the framed-TCP peer protocol (<see cref="Frame"/>): one multiplexed connection per
/// peer carries calls (matched to replies by id) and one-way messages (queued, batched, in order). Same options,
/// limits, counters and failure statuses as <see cref="GrpcTransport"/>; peers are <c>tcp://host:port</c> addresses
/// served by <see cref="TcpPeerListener"/>. Thread-safe; never throws for network trouble.
/// </summary>
public sealed class TcpTransport : IPeerTransport
{
    private readonly GrpcTransportOptions _options;
    private readonly ConcurrentDictionary<NodeId, TcpPeerLink> _links = new();
    private readonly TransportCounters _counters = new();
    private readonly ILogger _log;
    private readonly object _replaceLock = new();
    private long _nextCallId;
    private bool _disposed;

    private readonly PeerSecurity _security;

    public TcpTransport(NodeId self, PeerDirectory directory, GrpcTransportOptions? options = null, ILoggerFactory? logs = null,
        PeerSecurity? security = null)
    {
        _security = security ?? PeerSecurity.None;
        Self = self;
        Directory = directory;
        _options = options ?? new GrpcTransportOptions();
        _options.Validate();
        _log = (logs ?? NullLoggerFactory.Instance).CreateLogger<TcpTransport>();
    }

    public NodeId Self { get; }

    public PeerDirectory Directory { get; }

    public TransportStats Stats => _counters.Snapshot();

    public async Task<RpcReply> CallAsync(NodeId target, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return RpcReply.Fail(RpcStatus.Cancelled, "cancelled before sending");
        var link = LinkTo(target);
        if (link is null) return RpcReply.Fail(RpcStatus.Unavailable, $"no tcp:// address known for {target}");
        if (TooLarge(method, request.Length))
            return RpcReply.Fail(RpcStatus.Failed, $"request of {request.Length} bytes exceeds the {_options.MaxMessageBytes}-byte limit");
        var id = Interlocked.Increment(ref _nextCallId);
        var frame = Frame.Encode(FrameKind.Call, id, Self, method, request.Span);
        // No deadline crosses the wire: the transport's own maximum keeps a call from outliving a silent peer.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.CallDeadlineMax);
        var reply = await link.CallAsync(id, frame, deadline.Token).ConfigureAwait(false);
        if (reply.Status == RpcStatus.Cancelled && !cancellationToken.IsCancellationRequested)
            return RpcReply.Fail(RpcStatus.Timeout, $"no reply from {link.Address} within {_options.CallDeadlineMax.TotalMilliseconds:0} ms");
        return reply;
    }

    public void Send(NodeId target, string method, ReadOnlyMemory<byte> message)
    {
        if (TooLarge(method, message.Length))
        {
            Interlocked.Increment(ref _counters.DroppedTooLarge);
            return;
        }
        var link = LinkTo(target);
        if (link is null)
        {
            Interlocked.Increment(ref _counters.DroppedNoAddress);
            return;
        }
        link.Enqueue(Frame.Encode(FrameKind.Message, 0, Self, method, message.Span));
    }

    /// <summary>What the receiver would reject (<see cref="Frame.FrameBytesMax"/>): refuse it here instead of
    /// breaking the connection for every call and message sharing it.</summary>
    private bool TooLarge(string method, int payloadBytes) =>
        payloadBytes > _options.MaxMessageBytes || Encoding.UTF8.GetByteCount(method) > Frame.MethodBytesMax;

    private TcpPeerLink? LinkTo(NodeId target)
    {
        if (!Directory.TryGet(target, out var address) || address.Scheme != "tcp") return null;
        if (_links.TryGetValue(target, out var existing) && existing.Address == address) return existing;
        TcpPeerLink fresh;
        lock (_replaceLock)
        {
            if (_disposed) return null;
            if (_links.TryGetValue(target, out existing) && existing.Address == address) return existing;
            fresh = new TcpPeerLink(Self, target, address, _options, _counters, _log, _security);
            _links[target] = fresh;
        }
        // The peer moved: close the old link in the background; its calls in flight end as Unavailable.
        if (existing is not null) _ = existing.DisposeAsync().AsTask();
        return fresh;
    }

    public async ValueTask DisposeAsync()
    {
        List<TcpPeerLink> all;
        lock (_replaceLock)
        {
            if (_disposed) return;
            _disposed = true;
            all = _links.Values.ToList();
            _links.Clear();
        }
        foreach (var link in all) await link.DisposeAsync().ConfigureAwait(false);
    }
}
