using System.Threading.Channels;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc.Protos;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// Drains one peer's outbound queue into a long-lived client stream, in queue order. When the stream breaks
/// (peer down, restarted, network cut) the message being written is lost (counted), and the stream is reopened
/// after an exponential backoff with jitter; meanwhile the bounded queue absorbs or drops new messages, so
/// <see cref="GrpcTransport.Send"/> never blocks on a dead peer.
/// </summary>
internal sealed class OutboundPump(
    NodeId self, NodeId target, Uri address, Peer.PeerClient client, ChannelReader<PeerMessage> queue,
    GrpcTransportOptions options, TransportCounters counters, ILogger log)
{
    public async Task RunAsync(CancellationToken stop)
    {
        var backoff = options.ReconnectBackoffMin;
        // Open a stream only when there is something to send: an idle peer costs no HTTP/2 stream.
        while (await queue.WaitToReadAsync(stop).ConfigureAwait(false))
        {
            var wroteAny = await PumpOneStreamAsync(stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested) return;
            backoff = wroteAny ? options.ReconnectBackoffMin : Min(backoff * 2, options.ReconnectBackoffMax);
            // Jitter spreads reconnects of many nodes to one restarted peer.
            var delay = backoff * (0.5 + Random.Shared.NextDouble() / 2);
            await Task.Delay(delay, stop).ConfigureAwait(false);
        }
    }

    /// <summary>Writes queued messages into one stream until it breaks or the queue completes; returns whether
    /// at least one message went through (a healthy stream, so the backoff resets).</summary>
    private async Task<bool> PumpOneStreamAsync(CancellationToken stop)
    {
        var wroteAny = false;
        PeerMessage? inFlight = null;
        try
        {
            using var call = client.Stream(cancellationToken: stop);
            Interlocked.Increment(ref counters.StreamsOpened);
            while (await queue.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                while (queue.TryRead(out var message))
                {
                    inFlight = message;
                    await call.RequestStream.WriteAsync(message, stop).ConfigureAwait(false);
                    inFlight = null;
                    wroteAny = true;
                    Interlocked.Increment(ref counters.MessagesWritten);
                }
            }
            // The transport is shutting down: end the stream politely so the server sees a clean close.
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            if (inFlight is not null) Interlocked.Increment(ref counters.LostOnBrokenStream);
            log.LogDebug(e, "{Self}: stream to {Target} at {Address} broke", self, target, address);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Shutting down: nothing to report.
        }
        return wroteAny;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
