using Flotilla.Runtime.Network;
using Flotilla.Transport.Grpc.Protos;
using Grpc.Core;

namespace Flotilla.Transport.Grpc;

/// <summary>Turns what gRPC reports into the <see cref="RpcReply"/> values protocol code handles.</summary>
internal static class CallOutcome
{
    public static RpcReply FromReply(PeerReply reply) =>
        reply.Error.Length > 0 ? RpcReply.Fail(RpcStatus.Failed, reply.Error) : RpcReply.Ok(reply.Payload.Memory);

    public static RpcReply FromException(Exception error, CancellationToken callerToken, Uri address)
    {
        // The caller's own cancellation wins over whatever the stack reported while unwinding.
        if (callerToken.IsCancellationRequested) return RpcReply.Fail(RpcStatus.Cancelled, "cancelled by the caller");
        return error switch
        {
            RpcException { StatusCode: StatusCode.DeadlineExceeded } => RpcReply.Fail(RpcStatus.Timeout, $"no reply from {address} before the deadline"),
            RpcException { StatusCode: StatusCode.Unavailable } e => RpcReply.Fail(RpcStatus.Unavailable, $"{address}: {RpcErrorText.Describe(e)}"),
            // Cancelled without our token: the server or the connection went away mid-call.
            RpcException { StatusCode: StatusCode.Cancelled } e => RpcReply.Fail(RpcStatus.Unavailable, $"{address}: {e.Status.Detail}"),
            // The client stack turned a connection failure (reset, GOAWAY, premature end) into Internal/Unknown:
            // the request may never have reached a handler, so this is the network's fault, not the handler's.
            RpcException e when IsConnectionFailure(e.Status.DebugException) => RpcReply.Fail(RpcStatus.Unavailable, $"{address}: {e.Status.Detail}"),
            RpcException e => RpcReply.Fail(RpcStatus.Failed, $"{address}: {e.StatusCode}: {e.Status.Detail}"),
            OperationCanceledException => RpcReply.Fail(RpcStatus.Unavailable, $"{address}: call aborted"),
            HttpRequestException or IOException or ObjectDisposedException => RpcReply.Fail(RpcStatus.Unavailable, $"{address}: {error.Message}"),
            _ => RpcReply.Fail(RpcStatus.Failed, $"{address}: {error.GetType().Name}: {error.Message}"),
        };
    }

    private static bool IsConnectionFailure(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
            if (e is HttpRequestException or IOException or System.Net.Sockets.SocketException) return true;
        return false;
    }
}
