using System.Collections.Concurrent;
using System.Net.Sockets;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// One outbound TCP connection to a peer: frames written under a lock (whole frames only, never interleaved),
/// a reader loop that completes calls by id. When anything goes wrong the connection closes for good and every
/// call waiting on it ends as <see cref="RpcStatus.Unavailable"/>; the owner opens a new one.
/// </summary>
internal sealed class TcpConnection
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<RpcReply>> _calls = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly int _frameBytesMax;
    private readonly string _peer;

    private TcpConnection(Socket socket, Stream stream, int frameBytesMax, string peer)
    {
        _socket = socket;
        _stream = stream;
        _frameBytesMax = frameBytesMax;
        _peer = peer;
        _ = ReadRepliesAsync();
    }

    public bool IsClosed => _closed.IsCancellationRequested;

    /// <summary>Connects, then sets the connection up (<see cref="PeerConnectionSetup"/>: TLS and the peer handshake
    /// as <paramref name="security"/> asks) before any frame is written.</summary>
    public static async Task<TcpConnection> ConnectAsync(string host, int port, TimeSpan connectTimeout, int frameBytesMax,
        PeerSecurity security, NodeId self, NodeId target, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(connectTimeout);
            await socket.ConnectAsync(host, port, limit.Token).ConfigureAwait(false);
            var stream = await PeerConnectionSetup.ConnectAsync(socket, host, security, self, target, cancellationToken).ConfigureAwait(false);
            return new TcpConnection(socket, stream, frameBytesMax, $"{host}:{port}");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends a call frame and waits for its reply, the caller's cancellation, or the connection's end.</summary>
    public async Task<RpcReply> CallAsync(long id, byte[] frame, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<RpcReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = reply;
        // Closed between lookup and registration: Close() may have missed this call, so end it here.
        if (IsClosed) return Forget(id, RpcReply.Fail(RpcStatus.Unavailable, $"connection to {_peer} closed"));
        try
        {
            await WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Forget(id, RpcReply.Fail(RpcStatus.Cancelled, "cancelled by the caller"));
        }
        catch (Exception e)
        {
            return Forget(id, RpcReply.Fail(RpcStatus.Unavailable, $"{_peer}: {e.Message}"));
        }
        await using (cancellationToken.Register(() => Abandon(id)).ConfigureAwait(false))
        {
            return await reply.Task.ConfigureAwait(false);
        }
    }

    /// <summary>The caller gave up: answer it now, and tell the server so the handler's token fires and it stops working.</summary>
    private void Abandon(long id)
    {
        if (!_calls.ContainsKey(id)) return; // the reply won the race
        Forget(id, RpcReply.Fail(RpcStatus.Cancelled, "cancelled by the caller"));
        _ = SendCancelAsync(id);
    }

    private async Task SendCancelAsync(long id)
    {
        try { await WriteAsync(Frame.Encode(FrameKind.Cancel, id, default, "", ReadOnlySpan<byte>.Empty), CancellationToken.None).ConfigureAwait(false); }
        catch (Exception) { /* the connection is gone: the server cancels everything on it anyway */ }
    }

    /// <summary>Writes whole frames; waiting for the lock honours <paramref name="cancellationToken"/>, the write
    /// itself does not (half a frame would corrupt the stream for everyone).</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            await _stream.WriteAsync(frames, _closed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            Close();
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Starts writing <paramref name="frames"/> on the caller's thread if no other write holds the connection: false
    /// (nothing written) if one does. A small write to a healthy socket completes inside the call, so a one-way message
    /// costs no thread hop; if the kernel buffer is full, the rest completes asynchronously and
    /// <paramref name="completion"/> says when. A failed write closes the connection (the frames are lost, as they
    /// would be half-written on any broken stream) and completes <paramref name="completion"/> with the error.
    /// </summary>
    public bool TryStartWrite(ReadOnlyMemory<byte> frames, out Task completion)
    {
        completion = Task.CompletedTask;
        if (IsClosed || !_writeLock.Wait(0)) return false;
        ValueTask write;
        try
        {
            write = _stream.WriteAsync(frames, _closed.Token);
        }
        catch (Exception e)
        {
            Close();
            _writeLock.Release();
            completion = Task.FromException(e);
            return true;
        }
        if (write.IsCompletedSuccessfully)
        {
            _writeLock.Release();
            return true;
        }
        completion = FinishWriteAsync(write);
        return true;
    }

    private async Task FinishWriteAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception)
        {
            Close();
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private RpcReply Forget(long id, RpcReply outcome)
    {
        if (_calls.TryRemove(id, out var waiting)) waiting.TrySetResult(outcome);
        return outcome;
    }

    private async Task ReadRepliesAsync()
    {
        var prefix = new byte[Frame.PrefixBytes];
        try
        {
            await using var input = new BufferedStream(_stream, 64 * 1024);
            while (await Frame.ReadAsync(input, prefix, _frameBytesMax, _closed.Token).ConfigureAwait(false) is { } frame)
            {
                if (!_calls.TryRemove(frame.Id, out var waiting)) continue; // the caller already gave up
                waiting.TrySetResult(frame switch
                {
                    { IsOversized: true } => RpcReply.Fail(RpcStatus.Failed, $"ResourceExhausted: reply frame of {frame.OversizedBytes} bytes exceeds the limit of {_frameBytesMax}"),
                    { Kind: FrameKind.ReplyOk } => RpcReply.Ok(frame.Payload),
                    _ => RpcReply.Fail(RpcStatus.Failed, System.Text.Encoding.UTF8.GetString(frame.Payload.Span)),
                });
            }
        }
        catch (Exception)
        {
            // Reset, malformed reply, or our own Close(): all end the connection the same way.
        }
        finally
        {
            Close();
        }
    }

    public void Close()
    {
        if (IsClosed) return;
        try { _closed.Cancel(); }
        catch (ObjectDisposedException) { }
        _socket.Dispose();
        foreach (var id in _calls.Keys) Forget(id, RpcReply.Fail(RpcStatus.Unavailable, $"connection to {_peer} closed"));
    }
}
