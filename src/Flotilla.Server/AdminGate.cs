using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Flotilla.Server;

/// <summary>
/// Who may call the Admin service, and where. Where: only on connections accepted by the admin listener
/// (<see cref="MarkAdminConnections"/>), unless the server was asked to serve Admin on the client port too; anywhere
/// else the service answers Unimplemented, as if it were not there. Who: a caller with <c>authorization: Bearer
/// TOKEN</c>, or, when the endpoint requires client certificates, one whose certificate Kestrel verified. The same
/// "who" rule (<see cref="CheckToken"/>, on any port) guards the sharded store's reconfiguration calls
/// (<c>ShardCtl.Join/Leave/Move</c>).
/// </summary>
internal sealed class AdminGate(string? token, bool anyConnection, bool clientCertificates)
{
    private const string AdminConnection = "flotilla.admin-connection";
    private readonly byte[]? _expected = token is null ? null : Encoding.UTF8.GetBytes("Bearer " + token);

    /// <summary>Kestrel connection middleware for the admin listener: tags its connections.</summary>
    public static ConnectionDelegate MarkAdminConnections(ConnectionDelegate next) => connection =>
    {
        connection.Items[AdminConnection] = true;
        return next(connection);
    };

    public void Check(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var items = http.Features.Get<IConnectionItemsFeature>()?.Items;
        if (!anyConnection && items?.ContainsKey(AdminConnection) != true)
            throw new RpcException(new Status(StatusCode.Unimplemented, "the Admin service is not served on this port"));
        CheckToken(context, "Admin calls");
    }

    /// <summary>Only the "who" part: the admin token (or a verified client certificate), on whatever port the call came.
    /// No token configured: every call is refused (missing: UNAUTHENTICATED, any: PERMISSION_DENIED).</summary>
    public void CheckToken(ServerCallContext context, string what)
    {
        var http = context.GetHttpContext();
        // Kestrel already refused a certificate that does not chain to the configured CA.
        if (clientCertificates && http.Connection.ClientCertificate is not null) return;
        var presented = context.RequestHeaders.GetValue("authorization");
        if (presented is null) throw new RpcException(new Status(StatusCode.Unauthenticated, $"{what} need the admin token (authorization: Bearer TOKEN)"));
        if (_expected is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _expected))
            throw new RpcException(new Status(StatusCode.PermissionDenied, "wrong admin token"));
    }
}
