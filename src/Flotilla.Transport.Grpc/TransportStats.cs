namespace Flotilla.Transport.Grpc;

/// <summary>Counters of the one-way path: every message handed to Send ends in exactly one of the first five
/// (or is still queued). <c>StreamsOpened</c> counts gRPC one-way streams, or framed-TCP connections, opened.</summary>
public readonly record struct TransportStats(
    long MessagesWritten,
    long DroppedQueueFull,
    long DroppedNoAddress,
    long DroppedTooLarge,
    long LostOnBrokenStream,
    long StreamsOpened);

/// <summary>The mutable, thread-safe counters behind <see cref="TransportStats"/>.</summary>
internal sealed class TransportCounters
{
    public long MessagesWritten;
    public long DroppedQueueFull;
    public long DroppedNoAddress;
    public long DroppedTooLarge;
    public long LostOnBrokenStream;
    public long StreamsOpened;

    public TransportStats Snapshot() => new(
        Interlocked.Read(ref MessagesWritten),
        Interlocked.Read(ref DroppedQueueFull),
        Interlocked.Read(ref DroppedNoAddress),
        Interlocked.Read(ref DroppedTooLarge),
        Interlocked.Read(ref LostOnBrokenStream),
        Interlocked.Read(ref StreamsOpened));
}
