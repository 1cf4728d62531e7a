using Flotilla.Server.Protos;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Cluster;

/// <summary>Talks to one server's Admin service with a deadline on every call.</summary>
public sealed class AdminClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Admin.AdminClient _client;

    public AdminClient(Uri address)
    {
        Address = address;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), EnableMultipleHttp2Connections = true },
        });
        _client = new Admin.AdminClient(_channel);
    }

    public Uri Address { get; }

    /// <summary>The member's status, or null if it did not answer within <paramref name="timeout"/>.</summary>
    public async Task<StatusReply?> TryStatusAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _client.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>Asks the member to stop cleanly; false if it could not be reached.</summary>
    public async Task<bool> TryShutdownAsync(TimeSpan timeout)
    {
        try
        {
            await _client.ShutdownAsync(new ShutdownRequest(), deadline: DateTime.UtcNow + timeout);
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    public void Dispose() => _channel.Dispose();
}
