using System.CommandLine;
using Flotilla.Cli.Bench;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server;
using Flotilla.Transport.Grpc;
using Flotilla.Transport.Grpc.Tcp;

namespace Flotilla.Cli.Commands;

/// <summary>The resource-limit flags of <c>flotilla server</c> (docs/transport.md "Limits"): what a peer connection and
/// a client may cost. Every flag is optional (the defaults are the library's); a value out of range is a usage error
/// on one line naming the flag and the range.</summary>
internal sealed class ServerLimitFlags
{
    /// <summary>A Raft append carries up to 1 MiB plus at least one whole entry (a KV put up to ~1.06 MiB): below this
    /// a member could never replicate a large put.</summary>
    internal const int PeerFrameBytesMin = 2 * 1024 * 1024;

    private const int BytesMax = 1 << 30;

    private readonly Option<int?> _peerFrameMax = new("--peer-frame-max-bytes") { Description = "Largest peer message (framed TCP frame body, gRPC peer call) accepted or sent (default 4 MiB; at least 2 MiB)." };
    private readonly Option<int?> _peerConnections = new("--peer-max-connections") { Description = "Open inbound framed-TCP peer connections at once; more are closed when accepted (default 64)." };
    private readonly Option<string?> _peerIdle = new("--peer-idle-timeout") { Description = "Close a peer connection that completes no frame for this long while idle (default 2m)." };
    private readonly Option<string?> _peerFirstFrame = new("--peer-first-frame-timeout") { Description = "Close a new peer connection that sends no whole frame within this (default 10s)." };
    private readonly Option<int?> _clientMessage = new("--client-max-message-bytes") { Description = "Largest client request or reply on the client port (default 1 MiB + 65 KiB, the KV value limit plus room)." };
    private readonly Option<int?> _clientStreams = new("--client-max-streams-per-connection") { Description = "Concurrent HTTP/2 streams (calls) per client connection (default 16)." };
    private readonly Option<int?> _clientConnections = new("--client-max-connections") { Description = "Open connections on the client port at once (default 1024)." };
    private readonly Option<int?> _clientCalls = new("--client-max-calls") { Description = "Client calls in progress on the port; more fail at once with RESOURCE_EXHAUSTED (default 512)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _peerFrameMax, _peerConnections, _peerIdle, _peerFirstFrame, _clientMessage, _clientStreams, _clientConnections, _clientCalls })
            command.Options.Add(option);
    }

    /// <summary><paramref name="options"/> with the limits the flags ask for.</summary>
    public ServerOptions Apply(ParseResult parse, ServerOptions options)
    {
        var client = options.ClientLimits;
        var messageBytes = Range(parse, _clientMessage, 4096, BytesMax) ?? client.MaxReceiveMessageBytes;
        client = client with
        {
            MaxReceiveMessageBytes = messageBytes,
            MaxSendMessageBytes = messageBytes,
            MaxStreamsPerConnection = Range(parse, _clientStreams, 1, 10_000) ?? client.MaxStreamsPerConnection,
            MaxConnections = Range(parse, _clientConnections, 1, 1_000_000) ?? client.MaxConnections,
            MaxConcurrentCalls = Range(parse, _clientCalls, 1, 1_000_000) ?? client.MaxConcurrentCalls,
        };
        var peer = options.PeerTransport;
        var tcp = peer.TcpLimits;
        tcp = tcp with
        {
            MaxConnections = Range(parse, _peerConnections, 1, 65_536) ?? tcp.MaxConnections,
            IdleTimeout = Duration(parse, _peerIdle) ?? tcp.IdleTimeout,
            FirstFrameTimeout = Duration(parse, _peerFirstFrame) ?? tcp.FirstFrameTimeout,
        };
        peer = peer with { MaxMessageBytes = Range(parse, _peerFrameMax, PeerFrameBytesMin, BytesMax) ?? peer.MaxMessageBytes, TcpLimits = tcp };
        return options with { ClientLimits = client, PeerTransport = peer };
    }

    private static int? Range(ParseResult parse, Option<int?> option, int min, int max) => parse.GetValue(option) switch
    {
        null => null,
        var v and >= 0 when v >= min && v <= max => v,
        var v => throw new CliException($"{option.Name}: {v} is out of range ({min}..{max})", ExitCodes.Usage),
    };

    private static TimeSpan? Duration(ParseResult parse, Option<string?> option)
    {
        if (parse.GetValue(option) is not { } text) return null;
        var value = BenchDuration.Parse(text, option.Name);
        return value >= TimeSpan.FromMilliseconds(100) ? value : throw new CliException($"{option.Name}: {text} is too short (at least 100ms)", ExitCodes.Usage);
    }
}
