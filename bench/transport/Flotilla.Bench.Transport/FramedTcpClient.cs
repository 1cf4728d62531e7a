using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flotilla.Bench.Transport;

/// <summary>The client of <see cref="FramedTcpServer"/>: one connection, one call at a time, no batching.</summary>
internal sealed class FramedTcpClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _header = new byte[4];

    private FramedTcpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<FramedTcpClient> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        return new FramedTcpClient(socket);
    }

    public Task<ReadOnlyMemory<byte>> CallAsync(int from, string method, ReadOnlyMemory<byte> payload) => RoundTripAsync(0, from, method, payload);

    /// <summary>A one-way message answered by a one-way message on the same connection.</summary>
    public Task<ReadOnlyMemory<byte>> PingAsync(int from, string method, ReadOnlyMemory<byte> payload) => RoundTripAsync(2, from, method, payload);

    private async Task<ReadOnlyMemory<byte>> RoundTripAsync(byte kind, int from, string method, ReadOnlyMemory<byte> payload)
    {
        await _stream.WriteAsync(Frame(kind, from, method, payload.Span));
        await _stream.ReadExactlyAsync(_header);
        var reply = new byte[BinaryPrimitives.ReadUInt32LittleEndian(_header)];
        await _stream.ReadExactlyAsync(reply);
        if (reply[0] != 0) throw new InvalidOperationException(Encoding.UTF8.GetString(reply, 1, reply.Length - 1));
        return reply.AsMemory(1);
    }

    /// <summary>A one-way message: one frame, one write (the same per-message work the gRPC stream does).</summary>
    public void Send(int from, string method, ReadOnlySpan<byte> payload) => _stream.Write(Frame(1, from, method, payload));

    private static byte[] Frame(byte kind, int from, string method, ReadOnlySpan<byte> payload)
    {
        var methodLength = Encoding.UTF8.GetByteCount(method);
        var frame = new byte[4 + 1 + 4 + 1 + methodLength + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(frame.Length - 4));
        frame[4] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(5), from);
        frame[9] = (byte)methodLength;
        Encoding.UTF8.GetBytes(method, frame.AsSpan(10));
        payload.CopyTo(frame.AsSpan(10 + methodLength));
        return frame;
    }

    public void Dispose() => _socket.Dispose();
}
