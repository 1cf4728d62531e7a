using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc;

/// <summary>A real-network <see cref="ITransport"/>: addresses from a <see cref="PeerDirectory"/>, counters, a lifetime.</summary>
public interface IPeerTransport : ITransport, IAsyncDisposable
{
    PeerDirectory Directory { get; }

    /// <summary>Counters of the one-way path (sent, dropped, lost), for metrics and tests.</summary>
    TransportStats Stats { get; }
}
