using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Flotilla.Server.Tests;

/// <summary>
/// A deliberately rude HTTP/2 client on a raw socket: it opens many gRPC calls and never reads anything the server
/// sends, not even its SETTINGS. A real client (SocketsHttpHandler) reads replies into its own buffers whether or
/// not the application asks for them, so only a raw client makes the server keep its replies in memory.
/// </summary>
internal sealed class RawHttp2Client : IDisposable
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private readonly TcpClient _tcp = new();
    private int _nextStream = 1;

    public static async Task<RawHttp2Client> ConnectAsync(Uri server)
    {
        var client = new RawHttp2Client();
        // A small receive buffer, so the kernel holds little of what the server writes: the rest stays in the server.
        client._tcp.ReceiveBufferSize = 4096;
        await client._tcp.ConnectAsync(server.Host, server.Port);
        var stream = client._tcp.GetStream();
        await stream.WriteAsync(Preface);
        await stream.WriteAsync(Frame(type: 4, flags: 0, stream: 0, [])); // empty SETTINGS
        return client;
    }

    /// <summary>Sends one unary gRPC call (headers, then the length-prefixed message, ending the stream).</summary>
    public async Task SendUnaryAsync(string authority, string path, byte[] message)
    {
        var id = _nextStream;
        _nextStream += 2;
        var headers = new MemoryStream();
        foreach (var (name, value) in new[]
                 {
                     (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", authority),
                     ("content-type", "application/grpc"), ("te", "trailers"),
                 })
            Literal(headers, name, value);
        var body = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)message.Length);
        message.CopyTo(body, 5);
        var stream = _tcp.GetStream();
        await stream.WriteAsync(Frame(type: 1, flags: 0x4, id, headers.ToArray())); // HEADERS, END_HEADERS
        await stream.WriteAsync(Frame(type: 0, flags: 0x1, id, body)); // DATA, END_STREAM
    }

    /// <summary>HPACK literal header field without indexing, new name, no Huffman coding.</summary>
    private static void Literal(MemoryStream output, string name, string value)
    {
        output.WriteByte(0x00);
        foreach (var text in new[] { name, value })
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            if (bytes.Length >= 127) throw new ArgumentException("header too long for this client", nameof(value));
            output.WriteByte((byte)bytes.Length);
            output.Write(bytes);
        }
    }

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame, 9);
        return frame;
    }

    public void Dispose() => _tcp.Dispose();
}
