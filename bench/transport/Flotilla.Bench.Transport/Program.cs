// Peer-transport benchmark: gRPC (GrpcTransport + PeerService over Kestrel h2c) vs a minimal framed-TCP protocol,
// same loopback, same payloads, same node-side dispatch (router on the node's scheduler), in one run.
//   dotnet run -c Release --project bench/transport/Flotilla.Bench.Transport -- [--seconds 3] [--warmup 1]
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
RealNodeHost NewHost(int id) => new(new RealNodeHostOptions
{
    Id = new NodeId(id), Listen = new IPEndPoint(IPAddress.Loopback, 0), Peers = directory,
    DataDirectory = Path.Combine(root, $"n{id}"), Transport = transportOptions,
});
await using var client = NewHost(1);
await using var server = NewHost(2);
var echo = new EchoHandler();
server.Context.Router.Map("echo", echo);
server.Context.Router.Map("pong", new PongHandler(server.Transport));
var pong = new PongHandler(client.Transport);
client.Context.Router.Map("pong", pong);
await client.StartAsync();
await server.StartAsync();
directory.Set(client.Id, client.Address);
directory.Set(server.Id, server.Address);
await using var tcpServer = new FramedTcpServer(server.Context);

// Discarded pass: JIT tiering and connection set-up must not land in the first measured row.
{
    var payload = new byte[100];
    using var warmConnection = await FramedTcpClient.ConnectAsync(tcpServer.EndPoint);
    await Measurement.RequestResponseAsync("gRPC", 100, 4, warmup, warmup, _ => () => client.Transport.CallAsync(server.Id, Method, payload, CancellationToken.None));
    await Measurement.RequestResponseAsync("framed TCP", 100, 1, warmup, warmup, _ => () => warmConnection.CallAsync(client.Id.Value, Method, payload));
    await Measurement.OneWayAsync("gRPC", 100, warmup, warmup, () => client.Transport.Send(server.Id, Method, payload), () => echo.Messages, 8192);
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
    using (var pinger = await FramedTcpClient.ConnectAsync(tcpServer.EndPoint))
        Report(await Measurement.RequestResponseAsync("framed TCP", size, 1, warmup, duration, _ => () => pinger.PingAsync(client.Id.Value, Method, payload), "ping-pong"));

    Report(await Measurement.OneWayAsync("gRPC", size, warmup, duration,
        () => client.Transport.Send(server.Id, Method, payload), () => echo.Messages, inFlightMax: 8192));
    var dropped = client.Transport.Stats.DroppedQueueFull + client.Transport.Stats.LostOnBrokenStream;
    if (dropped != 0) Console.WriteLine($"WARNING: gRPC one-way dropped {dropped} messages");
    using (var oneWay = await FramedTcpClient.ConnectAsync(tcpServer.EndPoint))
    {
        Report(await Measurement.OneWayAsync("framed TCP", size, warmup, duration,
            () => oneWay.Send(client.Id.Value, Method, payload), () => echo.Messages, inFlightMax: 8192));
    }
}

Console.WriteLine();
Console.WriteLine("framed TCP / gRPC (ops/s):");
foreach (var tcp in results.Where(r => r.Transport == "framed TCP"))
{
    var grpc = results.Single(r => r.Transport == "gRPC" && r.Scenario == tcp.Scenario && r.PayloadBytes == tcp.PayloadBytes && r.Callers == tcp.Callers);
    Console.WriteLine($"  {tcp.Scenario,-8} {tcp.PayloadBytes,5} B {tcp.Callers,2} callers: {tcp.OpsPerSecond / grpc.OpsPerSecond:0.00}x");
}
try { Directory.Delete(root, recursive: true); } catch (IOException) { }

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
