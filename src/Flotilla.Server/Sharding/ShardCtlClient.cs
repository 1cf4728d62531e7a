using Flotilla.ShardCtl.Protos;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Sharding;

/// <summary>
/// Talks to the shard controller (<c>flotilla.shardctl.v1.ShardCtl</c>) at a list of endpoints: tries them in turn,
/// moving on when one is not the leader or does not answer, until a leader answers or the deadline passes (then
/// <see cref="CtlStatus.Unknown"/> with no configuration, or the last answer's status). Join/Leave/Move carry the admin
/// token (<c>authorization: Bearer TOKEN</c>) when given one; a server that refuses it ends the call at once with
/// <see cref="ShardCtlResult.Refused"/> set (every member has the same token). Thread-safe.
/// </summary>
public sealed class ShardCtlClient : IDisposable
{
    private readonly Uri[] _endpoints;
    private readonly GrpcChannel[] _channels;
    private readonly ShardCtl.Protos.ShardCtl.ShardCtlClient[] _clients;
    private readonly Metadata? _admin;
    private int _preferred;

    public ShardCtlClient(IReadOnlyList<Uri> endpoints, string? adminToken = null)
    {
        _admin = adminToken is null ? null : new Metadata { { "authorization", "Bearer " + adminToken } };
        if (endpoints.Count == 0) throw new ArgumentException("at least one endpoint is needed", nameof(endpoints));
        _endpoints = endpoints.ToArray();
        _channels = _endpoints.Select(e => GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1), EnableMultipleHttp2Connections = true },
        })).ToArray();
        _clients = _channels.Select(c => new ShardCtl.Protos.ShardCtl.ShardCtlClient(c)).ToArray();
    }

    /// <summary>How long one attempt at one endpoint may take.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public Task<ShardCtlResult> QueryAsync(int num, TimeSpan timeout, CancellationToken ct = default) =>
        CallAsync((c, o) => c.QueryAsync(new QueryRequest { Num = num }, o).ResponseAsync, timeout, ct);

    public Task<ShardCtlResult> JoinAsync(IReadOnlyDictionary<int, IReadOnlyList<string>> groups, TimeSpan timeout, CancellationToken ct = default)
    {
        var request = new JoinRequest();
        foreach (var (gid, endpoints) in groups) request.Groups[gid] = ShardCtlMapping.Members(endpoints);
        return CallAsync((c, o) => c.JoinAsync(request, Admin(o)).ResponseAsync, timeout, ct);
    }

    public Task<ShardCtlResult> LeaveAsync(IReadOnlyList<int> gids, TimeSpan timeout, CancellationToken ct = default)
    {
        var request = new LeaveRequest();
        request.Gids.AddRange(gids);
        return CallAsync((c, o) => c.LeaveAsync(request, Admin(o)).ResponseAsync, timeout, ct);
    }

    public Task<ShardCtlResult> MoveAsync(int shard, int gid, TimeSpan timeout, CancellationToken ct = default) =>
        CallAsync((c, o) => c.MoveAsync(new MoveRequest { Shard = shard, Gid = gid }, Admin(o)).ResponseAsync, timeout, ct);

    private CallOptions Admin(CallOptions options) => _admin is null ? options : options.WithHeaders(_admin);

    private async Task<ShardCtlResult> CallAsync(Func<ShardCtl.Protos.ShardCtl.ShardCtlClient, CallOptions, Task<CtlReply>> call, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        var endpoint = Volatile.Read(ref _preferred);
        string? lastError = null;
        var mayHaveApplied = false;
        var pause = TimeSpan.FromMilliseconds(20);
        for (var attempt = 0; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            try
            {
                var reply = await call(_clients[endpoint], new CallOptions(deadline: DateTime.UtcNow + (left < AttemptTimeout ? left : AttemptTimeout), cancellationToken: ct));
                if (reply.Status is not (CtlStatus.WrongLeader or CtlStatus.Unknown))
                {
                    Volatile.Write(ref _preferred, endpoint);
                    return new ShardCtlResult(reply.Status, reply.Config, mayHaveApplied, null);
                }
                mayHaveApplied |= reply.Status == CtlStatus.Unknown;
                lastError = $"{_endpoints[endpoint].Authority}: {reply.Status}";
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
            {
                // Refused before the controller saw it: nothing applied, and another member would say the same.
                return new ShardCtlResult(CtlStatus.Unknown, null, false, e.Status.Detail) { Refused = e.StatusCode };
            }
            catch (RpcException e) when (!ct.IsCancellationRequested)
            {
                mayHaveApplied = true;
                lastError = $"{_endpoints[endpoint].Authority}: {e.StatusCode}";
            }
            endpoint = (endpoint + 1) % _endpoints.Length;
            if (endpoint == 0 || _endpoints.Length == 1)
            {
                // A full round without a leader (an election, a restart): wait a little before the next round.
                await Task.Delay(pause, ct);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks));
            }
        }
        return new ShardCtlResult(CtlStatus.Unknown, null, mayHaveApplied, lastError ?? "the controller did not answer in time");
    }

    public void Dispose()
    {
        foreach (var channel in _channels) channel.Dispose();
    }
}

/// <summary>A controller answer: a status and (on success) the configuration. <see cref="CtlStatus.Unknown"/> with
/// <see cref="Error"/> set when no leader answered in time; <see cref="MayHaveApplied"/> when a change was sent
/// but its outcome is unknown (a retried Join may then answer GROUP_EXISTS for its own earlier attempt).</summary>
public sealed record ShardCtlResult(CtlStatus Status, Config? Config, bool MayHaveApplied, string? Error)
{
    /// <summary>Set when the server refused the caller (Join/Leave/Move without the admin token, or with a wrong one):
    /// UNAUTHENTICATED or PERMISSION_DENIED. Nothing was applied.</summary>
    public StatusCode? Refused { get; init; }

    public bool IsOk => Status == CtlStatus.Ok;
}
