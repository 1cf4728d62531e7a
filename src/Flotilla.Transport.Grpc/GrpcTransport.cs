using System.Collections.Concurrent;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Flotilla.Transport.Grpc.Protos;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// The real runtime's <see cref="ITransport"/>: calls are unary gRPC <c>Peer.Call</c>s, one-way messages go
/// through a per-peer bounded queue into a long-lived <c>Peer.Stream</c>. One <c>GrpcChannel</c>
/// per peer address, created on first use and replaced when <see cref="PeerDirectory"/> changes the address.
/// Thread-safe; never throws for network trouble.
/// </summary>
public sealed class GrpcTransport : IPeerTransport
{
    private readonly PeerDirectory _directory;
    private readonly GrpcTransportOptions _options;
    private readonly ConcurrentDictionary<NodeId, PeerConnection> _peers = new();
    private readonly TransportCounters _counters = new();
    private readonly ILogger _log;
    private readonly object _replaceLock = new();
    /// <summary>Protobuf framing of a <see cref="PeerMessage"/> around its payload and method: tags, lengths, sender id.</summary>
    private const int MessageOverheadBytesMax = 32;
    private bool _disposed;

    private readonly PeerSecurity _security;

    public GrpcTransport(NodeId self, PeerDirectory directory, GrpcTransportOptions? options = null, ILoggerFactory? logs = null,
        PeerSecurity? security = null)
    {
        _security = security ?? PeerSecurity.None;
        Self = self;
        _directory = directory;
        _options = options ?? new GrpcTransportOptions();
        _options.Validate();
        _log = (logs ?? NullLoggerFactory.Instance).CreateLogger<GrpcTransport>();
    }

    public NodeId Self { get; }

    public PeerDirectory Directory => _directory;

    public GrpcTransportOptions Options => _options;

    /// <summary>Counters of the one-way path (sent, dropped, lost), for metrics and tests.</summary>
    public TransportStats Stats => _counters.Snapshot();

    public async Task<RpcReply> CallAsync(NodeId target, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return RpcReply.Fail(RpcStatus.Cancelled, "cancelled before sending");
        var peer = ConnectionTo(target);
        if (peer is null) return RpcReply.Fail(RpcStatus.Unavailable, $"no http(s):// address known for {target}");
        // Copy: the caller may reuse its buffer as soon as we return, and must never share memory with a receiver.
        var message = new PeerRequest { From = Self.Value, Method = method, Payload = ByteString.CopyFrom(request.Span) };
        try
        {
            var reply = await peer.Client.CallAsync(message, deadline: DateTime.UtcNow + _options.CallDeadlineMax,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return CallOutcome.FromReply(reply);
        }
        catch (Exception e)
        {
            return CallOutcome.FromException(e, cancellationToken, peer.Address);
        }
    }

    public void Send(NodeId target, string method, ReadOnlyMemory<byte> message)
    {
        // Refuse here what the stream would refuse later: an oversized write breaks the stream for everyone queued behind it.
        if (message.Length > _options.MaxMessageBytes - MessageOverheadBytesMax - method.Length * 3)
        {
            Interlocked.Increment(ref _counters.DroppedTooLarge);
            return;
        }
        var peer = ConnectionTo(target);
        if (peer is null)
        {
            Interlocked.Increment(ref _counters.DroppedNoAddress);
            return;
        }
        peer.Enqueue(new PeerMessage { From = Self.Value, Method = method, Payload = ByteString.CopyFrom(message.Span) });
    }

    /// <summary>The connection for <paramref name="target"/>'s current address, or null when it has none.</summary>
    private PeerConnection? ConnectionTo(NodeId target)
    {
        // A tcp:// address belongs to a framed-TCP node this transport cannot speak to: as good as no address.
        if (!_directory.TryGet(target, out var address) || address.Scheme is not ("http" or "https")) return null;
        if (_peers.TryGetValue(target, out var existing) && existing.Address == address) return existing;
        PeerConnection? stale = null;
        PeerConnection fresh;
        lock (_replaceLock)
        {
            // After shutdown the node may still be sending: drop quietly rather than throw into protocol code.
            if (_disposed) return null;
            if (_peers.TryGetValue(target, out existing) && existing.Address == address) return existing;
            stale = existing;
            fresh = new PeerConnection(Self, target, address, _options, _counters, _log, _security);
            _peers[target] = fresh;
        }
        // The peer moved: close the old channel in the background; calls in flight on it end as Unavailable.
        if (stale is not null) _ = stale.DisposeAsync().AsTask();
        return fresh;
    }

    public async ValueTask DisposeAsync()
    {
        List<PeerConnection> all;
        lock (_replaceLock)
        {
            if (_disposed) return;
            _disposed = true;
            all = _peers.Values.ToList();
            _peers.Clear();
        }
        foreach (var peer in all) await peer.DisposeAsync().ConfigureAwait(false);
    }
}
