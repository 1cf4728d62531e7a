using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flotilla.Runtime;

namespace Flotilla.Bench.Transport;

/// <summary>
/// The comparison protocol: length-prefixed frames over raw TCP, one request in flight per connection.
/// Request: [u32 length][u8 kind 0=call 1=message 2=ping][i32 from][u8 method length][method][payload].
/// A ping is a one-way message the server answers with one of its own on the same connection (Raft's
/// append/ack pattern), so its round trip is what one-way ping-pong costs over framed TCP.
/// Reply:   [u32 length][u8 status 0=ok 1=failed][payload].
/// Like <see cref="Flotilla.Transport.Grpc.PeerService"/>, it delivers to the node's router on the node's scheduler,
/// so the two transports differ only in what is on the wire and in the stack that carries it.
/// </summary>
internal sealed class FramedTcpServer : IAsyncDisposable
{
    private readonly NodeContext _node;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _connections = [];
    private readonly Task _accepting;

    public FramedTcpServer(NodeContext node)
    {
        _node = node;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync();
                socket.NoDelay = true;
                lock (_connections) _connections.Add(socket);
                _ = Task.Run(() => ServeAsync(socket));
            }
        }
        catch (SocketException) { /* listener stopped */ }
        catch (ObjectDisposedException) { }
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var network = new NetworkStream(socket, ownsSocket: true);
        await using var input = new BufferedStream(network, 64 * 1024);
        var header = new byte[4];
        try
        {
            while (true)
            {
                await input.ReadExactlyAsync(header);
                var frame = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
                await input.ReadExactlyAsync(frame);
                var from = new NodeId(BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(1)));
                int methodLength = frame[5];
                var method = Encoding.UTF8.GetString(frame, 6, methodLength);
                var payload = frame.AsMemory(6 + methodLength);
                if (frame[0] == 1)
                {
                    _node.Post(() => _node.Router.HandleMessage(from, method, payload));
                    continue;
                }
                byte status = 0;
                ReadOnlyMemory<byte> reply;
                if (frame[0] == 2)
                {
                    reply = await _node.InvokeAsync(() =>
                    {
                        _node.Router.HandleMessage(from, method, payload);
                        return Task.FromResult(payload);
                    });
                }
                else try { reply = await _node.InvokeAsync(() => _node.Router.HandleCallAsync(from, method, payload, CancellationToken.None).AsTask()); }
                catch (Exception e) { status = 1; reply = Encoding.UTF8.GetBytes(e.Message); }
                var output = new byte[5 + reply.Length];
                BinaryPrimitives.WriteUInt32LittleEndian(output, (uint)(1 + reply.Length));
                output[4] = status;
                reply.CopyTo(output.AsMemory(5));
                await network.WriteAsync(output);
            }
        }
        catch (EndOfStreamException) { }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _accepting;
        lock (_connections) foreach (var socket in _connections) socket.Dispose();
    }
}
