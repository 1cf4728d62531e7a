using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Flotilla.Kv.Protos;
using Flotilla.Server.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Tests;

/// <summary>
/// The resource-limit flags of a real <c>flotilla server</c> reach the ports they limit (the limits themselves are
/// tested in Flotilla.Transport.Grpc.Tests and ClientPortLimitsTests): a client message over
/// <c>--client-max-message-bytes</c> is RESOURCE_EXHAUSTED, the client port announces
/// <c>--client-max-streams-per-connection</c> in its HTTP/2 SETTINGS, the framed-TCP peer port closes a connection
/// beyond <c>--peer-max-connections</c> at once and a silent one after <c>--peer-first-frame-timeout</c>.
/// </summary>
public sealed class ServerLimitFlagsProcessTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"flotilla-limit-flags-{Guid.NewGuid():N}");

    [Fact]
    public async Task LimitFlagsReachTheClientAndPeerPorts()
    {
        var (client, peer) = (CliProcess.FreePort(), CliProcess.FreePort());
        using var server = CliProcess.Start("server", "--id", "1", "--peers", $"1=127.0.0.1:{client}", "--peer-urls", $"1=tcp://127.0.0.1:{peer}",
            "--data", _data, "--initial-state", "new", "--client-max-message-bytes", "8192", "--client-max-streams-per-connection", "3",
            "--peer-max-connections", "1", "--peer-first-frame-timeout", "3s",
            // If this test host dies before disposing the process (a crashed host skips Dispose), the server exits too.
            "--parent-pid", Environment.ProcessId.ToString());
        Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(server.Out.Contains("serving", StringComparison.Ordinal) || server.HasExited),
            TimeSpan.FromSeconds(30)), "the server did not start");
        Assert.False(server.HasExited, server.Err);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{client}");
        var kv = new Kv.Protos.Kv.KvClient(channel);
        var deadline = () => DateTime.UtcNow.AddSeconds(20);
        // Until the lone member has elected itself it answers ERR_WRONG_SERVER.
        Assert.True(await ClusterFixture.EventuallyAsync(async () => (await kv.PutAsync(new PutRequest { Key = "small", Value = "v" }, deadline: deadline())).Error == KvError.Ok,
            TimeSpan.FromSeconds(20)), "a small put was not accepted");
        var tooBig = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new PutRequest { Key = "big", Value = new string('x', 10_000) }, deadline: deadline()));
        Assert.Equal(StatusCode.ResourceExhausted, tooBig.StatusCode);

        Assert.Equal(3u, await MaxConcurrentStreamsAsync(client));

        // The server itself holds no inbound peer connection (a lone member), so the first one takes the only slot.
        using var first = new TcpClient();
        await first.ConnectAsync(IPAddress.Loopback, peer);
        using var second = new TcpClient();
        await second.ConnectAsync(IPAddress.Loopback, peer);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await ClosedAsync(second, TimeSpan.FromSeconds(20)); // over the limit: closed at once
        var refusedAfter = clock.Elapsed;
        await ClosedAsync(first, TimeSpan.FromSeconds(20));  // silent: closed after the first-frame timeout
        Assert.True(refusedAfter < TimeSpan.FromSeconds(2.5), $"the connection over the limit was closed only after {refusedAfter}");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(15));
    }

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS from the server's first SETTINGS frame (HTTP/2 over cleartext).</summary>
    private static async Task<uint?> MaxConcurrentStreamsAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray().Concat(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }).ToArray());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var header = new byte[9];
        await stream.ReadExactlyAsync(header, timeout.Token);
        Assert.Equal(4, header[3]); // the server's connection preface is a SETTINGS frame
        var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
        await stream.ReadExactlyAsync(payload, timeout.Token);
        for (var i = 0; i + 6 <= payload.Length; i += 6)
            if (BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i)) == 3) return BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(i + 2));
        return null;
    }

    /// <summary>Reads (and discards: the peer port opens with its handshake challenge) until the server closes the
    /// connection; throws if it is still open after <paramref name="timeout"/>.</summary>
    private static async Task ClosedAsync(TcpClient tcp, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[256];
        try
        {
            while (await tcp.GetStream().ReadAsync(buffer, cts.Token) > 0) { }
        }
        catch (IOException) { /* reset: closed too */ }
    }

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); }
        catch (IOException) { }
    }
}
