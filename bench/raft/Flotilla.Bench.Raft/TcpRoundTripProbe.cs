using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flotilla.Bench.Raft;

/// <summary>The network floor: a 100-byte request echoed over one loopback TCP connection, one at a time (no RPC
/// framework) — what any Raft round trip on this machine costs at least.</summary>
public static class TcpRoundTripProbe
{
    private const int PayloadBytes = 100;

    public static async Task<LatencyStats> MeasureAsync(int count)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var echo = Task.Run(async () =>
        {
            using var server = await listener.AcceptSocketAsync();
            server.NoDelay = true;
            var buffer = new byte[PayloadBytes];
            for (var i = 0; i < count; i++)
            {
                await ReceiveExactlyAsync(server, buffer);
                await server.SendAsync(buffer);
            }
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        var payload = new byte[PayloadBytes];
        var reply = new byte[PayloadBytes];
        var samples = new List<long>(count);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await client.SendAsync(payload);
            await ReceiveExactlyAsync(client, reply);
            samples.Add(Stopwatch.GetTimestamp() - t0);
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await echo;
        return LatencyStats.From("tcp-rtt", 1, samples, 0, seconds);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read));
            if (n == 0) throw new IOException("loopback echo closed early");
            read += n;
        }
    }
}
