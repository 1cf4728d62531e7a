using Flotilla.Server.Protos;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Cluster;

/// <summary>Talks to one server's Admin service with a deadline on every call.</summary>
public sealed class AdminClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Admin.AdminClient _client;

    private readonly Metadata _headers = [];

    /// <param name="token">The admin token, sent as <c>authorization: Bearer TOKEN</c>; null sends none.</param>
    /// <param name="tls">With an https:// address: the CA to trust (null: the system's) and a client certificate for mutual TLS.</param>
    public AdminClient(Uri address, string? token = null, AdminTls? tls = null)
    {
        Address = address;
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), EnableMultipleHttp2Connections = true };
        if (tls is not null) handler.SslOptions = tls.ClientOptions();
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
        _client = new Admin.AdminClient(_channel);
        if (token is not null) _headers.Add("authorization", "Bearer " + token);
    }

    /// <summary>Why the last call failed (the gRPC status), for a message better than "unreachable".</summary>
    public StatusCode? LastError { get; private set; }

    public Uri Address { get; }

    /// <summary>The member's status, or null if it did not answer within <paramref name="timeout"/>.</summary>
    public async Task<StatusReply?> TryStatusAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _client.StatusAsync(new StatusRequest(), _headers, DateTime.UtcNow + timeout, cancellationToken);
        }
        catch (RpcException e)
        {
            LastError = e.StatusCode;
            return null;
        }
    }

    /// <summary>Asks the member to stop cleanly; false if it could not be reached.</summary>
    public async Task<bool> TryShutdownAsync(TimeSpan timeout)
    {
        try
        {
            await _client.ShutdownAsync(new ShutdownRequest(), _headers, DateTime.UtcNow + timeout);
            return true;
        }
        catch (RpcException e)
        {
            LastError = e.StatusCode;
            return false;
        }
    }

    /// <summary>Asks this member (the leader) to hand leadership to <paramref name="target"/>; null if the call failed
    /// (unreachable, refused token: see <see cref="LastError"/> and <see cref="LastErrorDetail"/>).</summary>
    public async Task<TransferLeadershipReply?> TryTransferLeadershipAsync(int target, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _client.TransferLeadershipAsync(new TransferLeadershipRequest { Target = target }, _headers, DateTime.UtcNow + timeout, cancellationToken);
        }
        catch (RpcException e)
        {
            LastError = e.StatusCode;
            LastErrorDetail = e.Status.Detail;
            return null;
        }
    }

    /// <summary>Adds a learner with its addresses (call the leader); null if the call failed.</summary>
    public Task<MembershipReply?> TryAddLearnerAsync(MemberAddresses member, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryAsync(() => _client.AddLearnerAsync(new AddLearnerRequest { Member = member }, _headers, DateTime.UtcNow + timeout, cancellationToken).ResponseAsync);

    public Task<MembershipReply?> TryPromoteAsync(int id, ulong maxLag, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryAsync(() => _client.PromoteMemberAsync(new PromoteMemberRequest { Id = id, MaxLag = maxLag }, _headers, DateTime.UtcNow + timeout, cancellationToken).ResponseAsync);

    public Task<MembershipReply?> TryRemoveAsync(int id, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryAsync(() => _client.RemoveMemberAsync(new RemoveMemberRequest { Id = id }, _headers, DateTime.UtcNow + timeout, cancellationToken).ResponseAsync);

    public Task<MembershipReply?> TryChangeAsync(IEnumerable<int> addVoters, IEnumerable<int> remove, ulong maxLag, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var request = new ChangeMembershipRequest { MaxLag = maxLag };
        request.AddVoters.AddRange(addVoters);
        request.Remove.AddRange(remove);
        return TryAsync(() => _client.ChangeMembershipAsync(request, _headers, DateTime.UtcNow + timeout, cancellationToken).ResponseAsync);
    }

    public Task<MemberProgressReply?> TryProgressAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryAsync(() => _client.MemberProgressAsync(new MemberProgressRequest(), _headers, DateTime.UtcNow + timeout, cancellationToken).ResponseAsync);

    private async Task<T?> TryAsync<T>(Func<Task<T>> call) where T : class
    {
        try
        {
            return await call();
        }
        catch (RpcException e)
        {
            LastError = e.StatusCode;
            LastErrorDetail = e.Status.Detail;
            return null;
        }
    }

    /// <summary>The status detail of the last failed call.</summary>
    public string? LastErrorDetail { get; private set; }

    public void Dispose() => _channel.Dispose();
}
