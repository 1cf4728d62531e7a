using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flotilla.Runtime;
using Microsoft.Extensions.Logging;

namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// The server side of the framed-TCP peer protocol: accepts connections and hands every call and message to the
/// node's router ON THE NODE'S SCHEDULER (like <see cref="PeerService"/>). Calls on one connection run
/// concurrently (bounded); replies are written as they finish. A malformed frame closes that connection only.
/// </summary>
public sealed class TcpPeerListener : IAsyncDisposable
{
    private readonly NodeContext _node;
    private readonly GrpcTransportOptions _options;
    private readonly ILogger _log;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private Task _accepting = Task.CompletedTask;
    private readonly ConnectionWatchdog _watchdog;
    private long _refused;

    private readonly PeerSecurity _security;
    private readonly Func<NodeId, bool> _isMember;

    /// <param name="security">How connections authenticate (<see cref="PeerConnectionSetup"/>); null accepts any.</param>
    /// <param name="isMember">Which member ids may connect (with credentials); null allows any that proves the secret.</param>
    public TcpPeerListener(NodeContext node, IPEndPoint listen, GrpcTransportOptions options, ILogger log,
        PeerSecurity? security = null, Func<NodeId, bool>? isMember = null)
    {
        _security = security ?? PeerSecurity.None;
        _isMember = isMember ?? (_ => true);
        _node = node;
        _options = options;
        _log = log;
        _listener = new TcpListener(listen);
        _watchdog = new ConnectionWatchdog(options.TcpLimits, reason => _log.LogWarning("{Node}: closing a peer connection that {Reason}", _node.Id, reason));
    }

    /// <summary>Inbound connections open now (at most <see cref="TcpListenerLimits.MaxConnections"/>).</summary>
    public int OpenConnections => _watchdog.Count;

    /// <summary>The bound endpoint (the real port when asked for port 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public void Start()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException e)
            {
                _log.LogWarning(e, "{Node}: accept failed", _node.Id);
                continue;
            }
            if (_watchdog.TryAdmit(socket) is not { } admitted)
            {
                // Refused before a thread exists for it. Logged sparingly: a flood must not become a log flood.
                if (Interlocked.Increment(ref _refused) % 1000 == 1)
                    _log.LogWarning("{Node}: refused a peer connection: {Max} are open ({Refused} refused so far)", _node.Id, _options.TcpLimits.MaxConnections, _refused);
                socket.Dispose();
                continue;
            }
            socket.NoDelay = true;
            var serving = ServeOnThread(socket, admitted);
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(serving);
            }
        }
    }

    /// <summary>
    /// Serves one connection on a dedicated thread that blocks in the socket read. A peer link carries a steady
    /// stream of small Raft messages, and a blocked reader wakes straight into the node (see
    /// <see cref="NodeContext.Execute"/>): one thread wake per message instead of three (epoll thread, pool worker,
    /// node scheduler). A node has a handful of peers, so a thread per inbound connection is cheap.
    /// </summary>
    private Task ServeOnThread(Socket socket, ConnectionWatchdog.Watched admitted)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { Serve(socket, admitted); }
            finally
            {
                admitted.Dispose();
                done.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = $"flotilla-peer-rx {_node.Id}",
        };
        thread.Start();
        return done.Task;
    }

    private void Serve(Socket socket, ConnectionWatchdog.Watched admitted)
    {
        // Not disposed: handlers that finish after the connection ended still release these.
        var closed = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var writeLock = new SemaphoreSlim(1, 1);
        // Bounds work read from this connection but not finished by the node: calls in progress and messages
        // waiting for the scheduler. When it is used up we stop reading and TCP pushes back on the sender.
        var pending = new SemaphoreSlim(_options.InboundPendingMax, _options.InboundPendingMax);
        // Calls in progress by id, so a Cancel frame can fire the handler's token.
        var running = new ConcurrentDictionary<long, CancellationTokenSource>();
        admitted.CallsRunning = () => running.Count;
        var remote = socket.RemoteEndPoint;
        var network = new NetworkStream(socket, ownsSocket: true);
        // The read below blocks; closing the socket is what ends it when the listener stops.
        using var onStop = closed.Token.Register(static s => ((NetworkStream)s!).Dispose(), network);
        var prefix = new byte[Frame.PrefixBytes];
        Stream stream = network;
        try
        {
            (stream, var member) = Authenticate(network, closed.Token);
            using var input = new BufferedStream(stream, 64 * 1024);
            var frameBytesMax = Frame.FrameBytesMax(_options.MaxMessageBytes);
            // The listener's peers are untrusted: a frame over the limit closes the connection unread.
            while (Frame.Read(input, prefix, frameBytesMax, closeOnOversized: true) is { } frame)
            {
                admitted.FrameArrived();
                if (frame.Kind == FrameKind.Cancel)
                {
                    if (running.TryGetValue(frame.Id, out var abandoned)) CancelQuietly(abandoned);
                    continue;
                }
                // An authenticated connection speaks for its member only: a forged `from` ends it.
                if (member is { } authenticated && frame.From != authenticated)
                    throw new InvalidDataException($"member {authenticated.Value} sent a frame claiming to be from {frame.From.Value}");
                pending.Wait(closed.Token);
                switch (frame.Kind)
                {
                    case FrameKind.Message:
                        _node.Execute(() => Deliver(frame, pending));
                        break;
                    case FrameKind.Call:
                        var call = CancellationTokenSource.CreateLinkedTokenSource(closed.Token);
                        running[frame.Id] = call;
                        _ = AnswerAsync(frame, stream, writeLock, pending, call, closed.Token, running);
                        break;
                    default:
                        throw new InvalidDataException($"a peer sent a {frame.Kind} frame to a server");
                }
            }
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            _log.LogWarning("{Node}: refused a peer connection from {Remote}: TLS failed: {Reason}", _node.Id, remote, e.Message);
        }
        catch (PeerHandshakeException e)
        {
            _log.LogWarning("{Node}: refused a peer connection from {Remote}: {Reason}", _node.Id, remote, e.Message);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            _log.LogWarning(e, "{Node}: closing a peer connection that sent a bad frame", _node.Id);
        }
        catch (Exception)
        {
            // Reset by the peer, or we are stopping.
        }
        finally
        {
            // Handlers still running see cancellation; their replies have nowhere to go.
            CancelQuietly(closed);
            stream.Dispose();
            network.Dispose();
        }
    }

    /// <summary>TLS and the peer handshake (<see cref="PeerConnectionSetup"/>), run on this connection's thread.</summary>
    private (Stream Stream, NodeId? Member) Authenticate(NetworkStream network, CancellationToken closed)
    {
        if (_security.Credentials is null && _security.Tls is null) return (network, null);
        return PeerConnectionSetup.AcceptAsync(network, _security, _node.Id, _isMember, closed).GetAwaiter().GetResult();
    }

    private void Deliver(Frame message, SemaphoreSlim pending)
    {
        try
        {
            _node.Router.HandleMessage(message.From, message.Method, message.Payload);
        }
        catch (Exception e)
        {
            // A one-way message has nobody to report to; a throwing handler must not take the node down.
            _log.LogWarning(e, "{Node}: handler of one-way {Method} from {From} threw", _node.Id, message.Method, message.From);
        }
        finally
        {
            pending.Release();
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try { source.Cancel(); }
        catch (ObjectDisposedException) { /* the call finished meanwhile */ }
    }

    private async Task AnswerAsync(Frame call, Stream stream, SemaphoreSlim writeLock, SemaphoreSlim pending,
        CancellationTokenSource callCancelled, CancellationToken connectionClosed, ConcurrentDictionary<long, CancellationTokenSource> running)
    {
        try
        {
            byte[] reply;
            try
            {
                var cancel = callCancelled.Token;
                var payload = await _node.InvokeAsync(() => _node.Router.HandleCallAsync(call.From, call.Method, call.Payload, cancel).AsTask()).ConfigureAwait(false);
                reply = payload.Length > _options.MaxMessageBytes
                    ? Failure(call.Id, $"reply of {payload.Length} bytes exceeds the {_options.MaxMessageBytes}-byte limit")
                    : Frame.Encode(FrameKind.ReplyOk, call.Id, _node.Id, "", payload.Span);
            }
            catch (Exception e)
            {
                // A handler failure (unknown method, bad bytes, bug) is the caller's Failed, never a server crash.
                reply = Failure(call.Id, string.IsNullOrEmpty(e.Message) ? e.GetType().Name : e.Message);
            }
            // Nobody waits for the reply of an abandoned call, and a closed connection has nowhere to send it.
            if (callCancelled.IsCancellationRequested) return;
            await writeLock.WaitAsync(connectionClosed).ConfigureAwait(false);
            try { await stream.WriteAsync(reply, connectionClosed).ConfigureAwait(false); }
            finally { writeLock.Release(); }
        }
        catch (Exception)
        {
            // The connection ended while we worked: the caller already saw Unavailable.
        }
        finally
        {
            running.TryRemove(call.Id, out _);
            callCancelled.Dispose();
            pending.Release();
        }
    }

    private byte[] Failure(long id, string error) => Frame.Encode(FrameKind.ReplyFailed, id, _node.Id, "", Encoding.UTF8.GetBytes(error));

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        _watchdog.Dispose();
        Task[] serving;
        lock (_connections) serving = [.. _connections];
        await Task.WhenAll(serving).ConfigureAwait(false);
    }
}
