using Flotilla.Runtime;
using Flotilla.Transport.Grpc.Protos;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// The server side of <c>peer.proto</c>: hands every inbound call and message to the node's
/// <see cref="Flotilla.Runtime.Network.RpcRouter"/> ON THE NODE'S SCHEDULER, never on a Kestrel thread,
/// so protocol code stays single-threaded.
/// </summary>
internal sealed class PeerService(NodeContext node, GrpcTransportOptions options, IHostApplicationLifetime lifetime, ILogger<PeerService> log,
    GrpcPeerAuth? auth = null)
    : Peer.PeerBase
{
    /// <summary>With peer authentication: the proven member (checked once per call or stream); null without.</summary>
    private NodeId? Authenticate(ServerCallContext context) => auth?.Verify(context);

    /// <summary>A call or message whose <c>from</c> is not the proven member is refused.</summary>
    private static void CheckFrom(NodeId? member, int from)
    {
        if (member is { } proven && from != proven.Value)
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"member {proven.Value} may not send as {from}"));
    }

    public override async Task<PeerReply> Call(PeerRequest request, ServerCallContext context)
    {
        CheckFrom(Authenticate(context), request.From);
        var from = new NodeId(request.From);
        var method = request.Method;
        var payload = request.Payload.Memory;
        var cancelled = context.CancellationToken;
        try
        {
            var reply = await node.InvokeAsync(() => node.Router.HandleCallAsync(from, method, payload, cancelled).AsTask()).ConfigureAwait(false);
            // Copy: the handler may hand back a buffer it reuses after this call returns.
            return new PeerReply { Payload = ByteString.CopyFrom(reply.Span) };
        }
        catch (OperationCanceledException) when (cancelled.IsCancellationRequested)
        {
            // The caller gave up or its deadline passed; it will not read any reply.
            throw new RpcException(new Status(StatusCode.Cancelled, "call cancelled by the caller"));
        }
        catch (Exception e)
        {
            // A handler failure (unknown method, bad bytes, bug) is the caller's Failed, never a server crash.
            var error = string.IsNullOrEmpty(e.Message) ? e.GetType().Name : e.Message;
            return new PeerReply { Error = error };
        }
    }

    public override async Task<StreamClosed> Stream(IAsyncStreamReader<PeerBatch> requestStream, ServerCallContext context)
    {
        // A sender's stream never ends by itself: end it when this server stops, or shutdown would wait for it.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        // Bounds messages read but not yet handled by the node; when full we stop reading and HTTP/2 flow
        // control makes the sender queue (and drop) instead of this server buffering without limit.
        using var pending = new SemaphoreSlim(options.InboundPendingMax, options.InboundPendingMax);
        var member = Authenticate(context);
        try
        {
            while (await requestStream.MoveNext(ended.Token).ConfigureAwait(false))
            {
                var batch = requestStream.Current;
                // A forged `from` ends the stream (the exception escapes the catch below).
                if (member is not null) foreach (var message in batch.Messages) CheckFrom(member, message.From);
                // A batch larger than the whole budget is admitted alone once everything before it is handled.
                var permits = Math.Min(batch.Messages.Count, options.InboundPendingMax);
                for (var i = 0; i < permits; i++) await pending.WaitAsync(ended.Token).ConfigureAwait(false);
                node.Post(() => Deliver(batch, pending, permits));
            }
        }
        catch (Exception e) when (ended.IsCancellationRequested || e is IOException)
        {
            // The sender went away or we are stopping; batches already posted are still delivered.
        }
        return new StreamClosed();
    }

    private void Deliver(PeerBatch batch, SemaphoreSlim pending, int permits)
    {
        foreach (var message in batch.Messages)
        {
            try
            {
                node.Router.HandleMessage(new NodeId(message.From), message.Method, message.Payload.Memory);
            }
            catch (Exception e)
            {
                // A one-way message has nobody to report to; a throwing handler must not take the node down.
                log.LogWarning(e, "{Node}: handler of one-way {Method} from n{From} threw", node.Id, message.Method, message.From);
            }
        }
        try { pending.Release(permits); }
        catch (ObjectDisposedException) { /* the stream already ended */ }
    }
}
