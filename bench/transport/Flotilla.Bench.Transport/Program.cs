// Peer-transport benchmark: gRPC (GrpcTransport + PeerService over Kestrel h2c) vs a minimal framed-TCP protocol,
// same loopback, same payloads, same node-side dispatch (router on the node's scheduler), in one run.
//   dotnet run -c Release --project bench/transport/Flotilla.Bench.Transport -- [--seconds 3] [--warmup 1] [--secure]
// --secure: the hosts authenticate peers (cluster secret handshake per connection, docs/security.md), as flotilla server does.
using System.Net;
using System.Runtime.InteropServices;
using Flotilla.Bench.Transport;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;

var seconds = ArgValue("--seconds", 3);
var warmupSeconds = ArgValue("--warmup", 1);
var duration = TimeSpan.FromSeconds(seconds);
var warmup = TimeSpan.FromSeconds(warmupSeconds);
int[] payloadSizes = [100, 4096];
const string Method = "echo/x";

Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {seconds} s per row after {warmupSeconds} s warm-up");
Console.WriteLine("| transport | scenario | payload | callers | ops/s | p50 µs | p99 µs |");
Console.WriteLine("|---|---|---|---|---:|---:|---:|");

var root = Path.Combine(Path.GetTempPath(), "flotilla-bench-transport-" + Guid.NewGuid().ToString("N"));
var directory = new PeerDirectory();
var transportOptions = new GrpcTransportOptions { OutboundQueueLength = 16_384 };
RealNodeHost NewHost(int id, PeerProtocol protocol) => new(new RealNodeHostOptions
{
    Id = new NodeId(id), Protocol = protocol, Peers = directory, Transport = transportOptions,
    Listen = new IPEndPoint(IPAddress.Loopback, 0), TcpListen = new IPEndPoint(IPAddress.Loopback, 0),
    DataDirectory = Path.Combine(root, $"n{id}"),
    Security = args.Contains("--secure")
        ? new PeerSecurity { Credentials = new ClusterCredentials("bench", "the bench cluster's shared secret"u8) }
        : PeerSecurity.None,
});
// n1 -> n2 over gRPC; n3 -> n4 over Flotilla's TcpTransport (the PeerProtocol.Tcp option); the minimal framed
// TCP below talks to n2's node, so all three deliver to a router on a node scheduler.
await using var client = NewHost(1, PeerProtocol.Grpc);
await using var server = NewHost(2, PeerProtocol.Grpc);
await using var tcpClient = NewHost(3, PeerProtocol.Tcp);
await using var tcpNode = NewHost(4, PeerProtocol.Tcp);
var echo = new EchoHandler();
server.Context.Router.Map("echo", echo);
server.Context.Router.Map("pong", new PongHandler(server.Transport));
var pong = new PongHandler(client.Transport);
client.Context.Router.Map("pong", pong);
var tcpEcho = new EchoHandler();
tcpNode.Context.Router.Map("echo", tcpEcho);
tcpNode.Context.Router.Map("pong", new PongHandler(tcpNode.Transport));
var tcpPong = new PongHandler(tcpClient.Transport);
tcpClient.Context.Router.Map("pong", tcpPong);
foreach (var host in new[] { client, server, tcpClient, tcpNode })
{
    await host.StartAsync();
    directory.Set(host.Id, host.PeerAddress);
}
await using var tcpServer = new FramedTcpServer(server.Context);

// Discarded pass: JIT tiering and connection set-up must not land in the first measured row.
{
    var payload = new byte[100];
    using var warmConnection = await FramedTcpClient.ConnectAsync(tcpServer.EndPoint);
    await Measurement.RequestResponseAsync("gRPC", 100, 4, warmup, warmup, _ => () => client.Transport.CallAsync(server.Id, Method, payload, CancellationToken.None));
    await Measurement.RequestResponseAsync("framed TCP", 100, 1, warmup, warmup, _ => () => warmConnection.CallAsync(client.Id.Value, Method, payload));
    await Measurement.OneWayAsync("gRPC", 100, warmup, warmup, () => client.Transport.Send(server.Id, Method, payload), () => echo.Messages, 8192);
    await Measurement.RequestResponseAsync("TcpTransport", 100, 4, warmup, warmup, _ => () => tcpClient.Transport.CallAsync(tcpNode.Id, Method, payload, CancellationToken.None));
    await Measurement.OneWayAsync("TcpTransport", 100, warmup, warmup, () => tcpClient.Transport.Send(tcpNode.Id, Method, payload), () => tcpEcho.Messages, 8192);
}

var results = new List<Measurement>();
void Report(Measurement m)
{
    results.Add(m);
    Console.WriteLine(m);
}

foreach (var size in payloadSizes)
{
    var payload = new byte[size];
    Random.Shared.NextBytes(payload);
    foreach (var callers in new[] { 1, 16 })
    {
        Report(await Measurement.RequestResponseAsync("gRPC", size, callers, warmup, duration, _ => async () =>
        {
            var reply = await client.Transport.CallAsync(server.Id, Method, payload, CancellationToken.None);
            if (!reply.IsOk) throw new InvalidOperationException(reply.ToString());
        }));
        Report(await Measurement.RequestResponseAsync("TcpTransport", size, callers, warmup, duration, _ => async () =>
        {
            var reply = await tcpClient.Transport.CallAsync(tcpNode.Id, Method, payload, CancellationToken.None);
            if (!reply.IsOk) throw new InvalidOperationException(reply.ToString());
        }));
        var connections = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => FramedTcpClient.ConnectAsync(tcpServer.EndPoint)));
        Report(await Measurement.RequestResponseAsync("framed TCP", size, callers, warmup, duration, c => async () =>
        {
            var reply = await connections[c].CallAsync(client.Id.Value, Method, payload);
            if (reply.Length != size) throw new InvalidOperationException("short reply");
        }));
        foreach (var connection in connections) connection.Dispose();
    }

    Report(await Measurement.RequestResponseAsync("gRPC", size, 1, warmup, duration, _ => () =>
    {
        var back = pong.Expect();
        client.Transport.Send(server.Id, "pong/ping", payload);
        return back;
    }, "ping-pong"));
    Report(await Measurement.RequestResponseAsync("TcpTransport", size, 1, warmup, duration, _ => () =>
    {
        var back = tcpPong.Expect();
        tcpClient.Transport.Send(tcpNode.Id, "pong/ping", payload);
        return back;
    }, "ping-pong"));
    using (var pinger = await FramedTcpClient.ConnectAsync(tcpServer.EndPoint))
        Report(await Measurement.RequestResponseAsync("framed TCP", size, 1, warmup, duration, _ => () => pinger.PingAsync(client.Id.Value, Method, payload), "ping-pong"));

    Report(await Measurement.OneWayAsync("gRPC", size, warmup, duration,
        () => client.Transport.Send(server.Id, Method, payload), () => echo.Messages, inFlightMax: 8192));
    var dropped = client.Transport.Stats.DroppedQueueFull + client.Transport.Stats.LostOnBrokenStream;
    if (dropped != 0) Console.WriteLine($"WARNING: gRPC one-way dropped {dropped} messages");
    Report(await Measurement.OneWayAsync("TcpTransport", size, warmup, duration,
        () => tcpClient.Transport.Send(tcpNode.Id, Method, payload), () => tcpEcho.Messages, inFlightMax: 8192));
    using (var oneWay = await FramedTcpClient.ConnectAsync(tcpServer.EndPoint))
    {
        Report(await Measurement.OneWayAsync("framed TCP", size, warmup, duration,
            () => oneWay.Send(client.Id.Value, Method, payload), () => echo.Messages, inFlightMax: 8192));
    }
}

Console.WriteLine();
Console.WriteLine("ops/s relative to gRPC:            framed TCP   TcpTransport");
foreach (var grpc in results.Where(r => r.Transport == "gRPC"))
{
    double Ratio(string transport) => results.Single(r => r.Transport == transport && r.Scenario == grpc.Scenario
        && r.PayloadBytes == grpc.PayloadBytes && r.Callers == grpc.Callers).OpsPerSecond / grpc.OpsPerSecond;
    Console.WriteLine($"  {grpc.Scenario,-9} {grpc.PayloadBytes,5} B {grpc.Callers,2} callers:     {Ratio("framed TCP"),8:0.00}x   {Ratio("TcpTransport"),8:0.00}x");
}
try { Directory.Delete(root, recursive: true); } catch (IOException) { }

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
