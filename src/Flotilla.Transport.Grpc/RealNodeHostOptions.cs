using System.Net;
using Flotilla.Runtime;
using Microsoft.Extensions.Logging;

namespace Flotilla.Transport.Grpc;

/// <summary>What one real Flotilla process needs to know to become a node.</summary>
public sealed record RealNodeHostOptions
{
    public required NodeId Id { get; init; }

    /// <summary>Where Kestrel listens (HTTP/2 cleartext). Port 0 picks a free port; read <see cref="RealNodeHost.Address"/> after start.</summary>
    public required IPEndPoint Listen { get; init; }

    /// <summary>Where the other nodes listen; shared with the node's <see cref="GrpcTransport"/>, updatable at run time.</summary>
    public required PeerDirectory Peers { get; init; }

    /// <summary>The node's private durable directory (becomes <see cref="NodeContext.Storage"/>).</summary>
    public required string DataDirectory { get; init; }

    public GrpcTransportOptions Transport { get; init; } = new();

    /// <summary>What clients of the Kestrel port may cost (message sizes, connections, streams, calls in flight).</summary>
    public ClientPortLimits ClientLimits { get; init; } = new();

    /// <summary>How peer traffic travels: gRPC on the Kestrel port (default) or framed TCP on <see cref="TcpListen"/>.</summary>
    public PeerProtocol Protocol { get; init; } = PeerProtocol.Grpc;

    /// <summary>With <see cref="PeerProtocol.Tcp"/>: where the framed-TCP peer listener binds (port 0 picks a free
    /// port; read <see cref="RealNodeHost.PeerAddress"/>). Kestrel keeps serving client APIs on <see cref="Listen"/>.</summary>
    public IPEndPoint? TcpListen { get; init; }

    /// <summary>Peer authentication and TLS (docs/security.md); <see cref="PeerSecurity.None"/> accepts any peer.</summary>
    public PeerSecurity Security { get; init; } = PeerSecurity.None;

    /// <summary>TLS on the Kestrel port (<see cref="Listen"/>); null serves cleartext HTTP/2 (h2c).</summary>
    public TlsSettings? ClientTls { get; init; }

    /// <summary>Whether Kestrel serves the gRPC <see cref="PeerService"/> on <see cref="Listen"/>; null: only when peers use
    /// gRPC (<see cref="PeerProtocol.Grpc"/>). With framed TCP the client port then takes no peer traffic at all.</summary>
    public bool? ServeGrpcPeers { get; init; }

    /// <summary>Logs of the node, the transport and Kestrel; none when null.</summary>
    public ILoggerFactory? Logs { get; init; }

    /// <summary>Wraps the node's file system (e.g. to time fsyncs for metrics); null uses it as is.</summary>
    public Func<Flotilla.Runtime.Storage.IFileSystem, Flotilla.Runtime.Storage.IFileSystem>? WrapStorage { get; init; }

    /// <summary>Wraps the transport protocol code sends through (<see cref="NodeContext.Transport"/>), e.g. to delay
    /// messages in a fault-injection run; null uses <see cref="RealNodeHost.Transport"/> as is. Inbound traffic and the
    /// host's own use of the transport (stats, shutdown) are not affected.</summary>
    public Func<Flotilla.Runtime.Network.ITransport, Flotilla.Runtime.Network.ITransport>? WrapTransport { get; init; }

    /// <summary>The node's clock (timers and timestamps of <see cref="NodeContext.Time"/>); null is the system clock.
    /// A fault-injection run passes a skewed one.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>How long a stop waits for in-flight inbound calls before cutting them off.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
