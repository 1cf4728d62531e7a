using System.Net.Http;
using System.Threading.Channels;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc.Protos;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// Everything this node keeps for one peer address: a gRPC channel (its own HTTP/2 connection pool) and the
/// bounded queue of one-way messages with the pump that drains it into a long-lived <c>Peer.Stream</c> call.
/// </summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Channel<PeerMessage> _outbound;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    public PeerConnection(NodeId self, NodeId target, Uri address, GrpcTransportOptions options, TransportCounters counters, ILogger log,
        PeerSecurity? security = null)
    {
        Target = target;
        Address = address;
        var sockets = new SocketsHttpHandler
        {
            // One HTTP/2 connection caps concurrent streams (100 by default on Kestrel); let the pool add more.
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = options.ConnectTimeout,
        };
        if (security?.Tls is { } tls) sockets.SslOptions = new System.Net.Security.SslClientAuthenticationOptions
        {
            ClientCertificates = [tls.Certificate],
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => TlsValidation.Accept(certificate, errors, tls.TrustedCa),
        };
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = security?.Credentials is { } credentials ? new GrpcPeerAuth.Handler(credentials, self, target, sockets) : sockets,
            DisposeHttpClient = true,
            MaxSendMessageSize = options.MaxMessageBytes,
            MaxReceiveMessageSize = options.MaxMessageBytes,
        });
        Client = new Peer.PeerClient(_channel);
        _outbound = Channel.CreateBounded<PeerMessage>(
            new BoundedChannelOptions(options.OutboundQueueLength)
            {
                FullMode = options.OverflowPolicy == SendOverflowPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.DropWrite,
                SingleReader = true,
                SingleWriter = false,
            },
            _ => Interlocked.Increment(ref counters.DroppedQueueFull));
        _pump = new OutboundPump(self, target, address, Client, _outbound.Reader, options, counters, log).RunAsync(_stop.Token);
    }

    public NodeId Target { get; }

    public Uri Address { get; }

    public Peer.PeerClient Client { get; }

    /// <summary>Queues a one-way message; never blocks (the queue's overflow policy drops instead).</summary>
    public void Enqueue(PeerMessage message) => _outbound.Writer.TryWrite(message);

    public async ValueTask DisposeAsync()
    {
        _outbound.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _pump.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        _channel.Dispose();
        _stop.Dispose();
    }
}
