using System.Net.Sockets;
using Grpc.Core;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// One readable phrase for a failed gRPC call. For an unreachable server gRPC's own detail is "Error connecting to
/// subchannel." (the same whatever went wrong, naming nothing); the socket error underneath ("Connection refused",
/// "Name or service not known", "No route to host") is what a user can act on, so that is what is shown.
/// </summary>
public static class RpcErrorText
{
    public static string Describe(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable && SocketCause(e.Status.DebugException) is { } cause
            ? $"unreachable ({cause})"
            : $"{e.StatusCode}: {e.Status.Detail}";

    private static string? SocketCause(Exception? error)
    {
        string? message = null;
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket) return socket.Message;
            if (e is HttpRequestException or IOException) message = e.Message;
        }
        return message;
    }
}
