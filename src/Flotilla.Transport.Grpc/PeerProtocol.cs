namespace Flotilla.Transport.Grpc;

/// <summary>How a node's peer (node-to-node) traffic travels. Client-facing APIs are always gRPC on Kestrel.</summary>
public enum PeerProtocol
{
    /// <summary>gRPC over Kestrel HTTP/2 (<see cref="GrpcTransport"/>, <see cref="PeerService"/>): the default.</summary>
    Grpc,
    /// <summary>Length-prefixed frames over one multiplexed TCP connection per peer (<see cref="Tcp.TcpTransport"/>):
    /// lower per-call latency, see docs/benchmarks.md.</summary>
    Tcp,
}
