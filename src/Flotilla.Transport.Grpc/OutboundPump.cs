using System.Threading.Channels;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc.Protos;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// Drains one peer's outbound queue into a long-lived client stream, in queue order, packing whatever is queued
/// into one <see cref="PeerBatch"/> per write (under load many messages share one HTTP/2 frame and flush; when
/// idle a message goes out alone, at once). When the stream breaks (peer down, restarted, network cut) the batch
/// being written is lost (counted) and the stream is reopened after an exponential backoff with jitter; meanwhile
/// the bounded queue absorbs or drops new messages, so <see cref="GrpcTransport.Send"/> never blocks on a dead peer.
/// </summary>
internal sealed class OutboundPump(
    NodeId self, NodeId target, Uri address, Peer.PeerClient client, ChannelReader<PeerMessage> queue,
    GrpcTransportOptions options, TransportCounters counters, ILogger log)
{
    /// <summary>Upper bound of one batch's encoded size: large enough to amortise a flush, well inside one HTTP/2
    /// flow-control window (so a batch never stalls half-sent), and within the receiver's max message size.</summary>
    private readonly int _batchBytesMax = Math.Min(options.MaxMessageBytes, 256 * 1024);

    private const int BatchMessagesMax = 4096;

    /// <summary>A message read from the queue that did not fit the previous batch; it opens the next one.</summary>
    private PeerMessage? _carried;

    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = options.ReconnectBackoffMin;
        // Open a stream only when there is something to send: an idle peer costs no HTTP/2 stream.
        while (_carried is not null || await queue.WaitToReadAsync(stop).ConfigureAwait(false))
        {
            var wroteAny = await PumpOneStreamAsync(stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested) return;
            backoff = wroteAny ? options.ReconnectBackoffMin : Min(backoff * 2, options.ReconnectBackoffMax);
            // Jitter spreads reconnects of many nodes to one restarted peer.
            var delay = backoff * (0.5 + Random.Shared.NextDouble() / 2);
            await Task.Delay(delay, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Writes batches into one stream until it breaks or the queue completes; returns whether at least
    /// one batch went through (a healthy stream, so the backoff resets).</summary>
    private async Task<bool> PumpOneStreamAsync(CancellationToken stop)
    {
        var wroteAny = false;
        PeerBatch? inFlight = null;
        try
        {
            using var call = client.Stream(cancellationToken: stop);
            Interlocked.Increment(ref counters.StreamsOpened);
            while (_carried is not null || await queue.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                inFlight = NextBatch();
                if (inFlight is null) continue;
                await call.RequestStream.WriteAsync(inFlight, stop).ConfigureAwait(false);
                Interlocked.Add(ref counters.MessagesWritten, inFlight.Messages.Count);
                inFlight = null;
                wroteAny = true;
            }
            // The transport is shutting down: end the stream politely so the server sees a clean close.
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            if (inFlight is not null) Interlocked.Add(ref counters.LostOnBrokenStream, inFlight.Messages.Count);
            log.LogDebug(e, "{Self}: stream to {Target} at {Address} broke", self, target, address);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Shutting down: nothing to report.
        }
        return wroteAny;
    }

    /// <summary>Takes queued messages, oldest first, up to the batch limits; null if the queue was empty.</summary>
    private PeerBatch? NextBatch()
    {
        var first = _carried;
        _carried = null;
        if (first is null && !queue.TryRead(out first)) return null;
        var batch = new PeerBatch { Messages = { first } };
        var bytes = EncodedSize(first);
        while (batch.Messages.Count < BatchMessagesMax && queue.TryRead(out var next))
        {
            var size = EncodedSize(next);
            if (bytes + size > _batchBytesMax)
            {
                _carried = next;
                break;
            }
            batch.Messages.Add(next);
            bytes += size;
        }
        return batch;
    }

    /// <summary>A message's bytes inside a batch: the message plus its field tag and length prefix.</summary>
    private static int EncodedSize(PeerMessage message)
    {
        var size = message.CalculateSize();
        return 1 + CodedOutputStream.ComputeLengthSize(size) + size;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
