using Flotilla.Kv.Protos;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Kv.Client;

/// <summary>
/// Reaches KV servers over the public gRPC API (<c>flotilla.kv.v1.Kv</c>), one HTTP/2 channel per endpoint.
/// Used by the CLI and by any .NET program; other languages generate their own client from kv.proto.
/// </summary>
public sealed class GrpcKvChannel : IKvChannel, IDisposable
{
    /// <summary>Endpoints a leader hint may add beyond the given ones (a leader known by another name, or a member the
    /// caller did not list), so a stream of odd hints cannot grow the channel without bound.</summary>
    private const int HintedEndpointsMax = 8;

    private readonly List<Uri> _endpoints;
    private readonly List<GrpcChannel> _channels;
    private readonly List<Protos.Kv.KvClient> _clients;
    private readonly System.Net.Security.SslClientAuthenticationOptions? _tls;
    private readonly int _given;

    /// <param name="tls">For https:// endpoints: whom to trust and which client certificate to present (mutual TLS);
    /// null uses the system's trust and no client certificate.</param>
    public GrpcKvChannel(IReadOnlyList<Uri> endpoints, System.Net.Security.SslClientAuthenticationOptions? tls = null)
    {
        if (endpoints.Count == 0) throw new ArgumentException("at least one endpoint is needed", nameof(endpoints));
        _tls = tls;
        _endpoints = [];
        _channels = [];
        _clients = [];
        foreach (var endpoint in endpoints) Add(endpoint);
        _given = _endpoints.Count;
    }

    private int Add(Uri endpoint)
    {
        var channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = _tls is null ? null : new SocketsHttpHandler { EnableMultipleHttp2Connections = true, SslOptions = _tls },
            // Room for the largest legal value plus framing; the server enforces the real limits.
            MaxSendMessageSize = KvLimits.ValueBytesMax + KvLimits.KeyBytesMax + 1024,
            MaxReceiveMessageSize = KvLimits.ValueBytesMax + KvLimits.KeyBytesMax + 1024,
        });
        _endpoints.Add(endpoint);
        _channels.Add(channel);
        _clients.Add(new Protos.Kv.KvClient(channel));
        return _endpoints.Count - 1;
    }

    /// <summary>The endpoint whose host:port is the hint's address; a leader at an address not in the list is added
    /// (same scheme as the first endpoint, so TLS stays TLS), up to <see cref="HintedEndpointsMax"/> of them.</summary>
    public int? EndpointOf(LeaderHint hint)
    {
        if (string.IsNullOrEmpty(hint.Address)) return null;
        var index = _endpoints.FindIndex(e => string.Equals(e.Authority, hint.Address, StringComparison.OrdinalIgnoreCase));
        if (index >= 0) return index;
        if (_endpoints.Count - _given >= HintedEndpointsMax) return null;
        return Uri.TryCreate($"{_endpoints[0].Scheme}://{hint.Address}", UriKind.Absolute, out var uri) && uri.Port > 0 ? Add(uri) : null;
    }

    /// <summary>Parses "host:port" or "http://host:port" into the URI a channel dials (cleartext HTTP/2 by default).</summary>
    public static Uri ParseEndpoint(string text)
    {
        text = text.Trim();
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Port <= 0)
            throw new FormatException($"'{text}' is not an endpoint (expected host:port or http://host:port)");
        return uri;
    }

    public int EndpointCount => _endpoints.Count;

    public string DescribeEndpoint(int endpoint) => _endpoints[endpoint].Authority;

    public Task<KvCall<GetReply>> GetAsync(int endpoint, GetRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(options => _clients[endpoint].GetAsync(request, options).ResponseAsync, timeout, cancellationToken);

    public Task<KvCall<PutReply>> PutAsync(int endpoint, PutRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(options => _clients[endpoint].PutAsync(request, options).ResponseAsync, timeout, cancellationToken);

    private static async Task<KvCall<T>> CallAsync<T>(Func<CallOptions, Task<T>> call, TimeSpan timeout, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return KvCall<T>.Answer(await call(new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken)));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            return KvCall<T>.Reject(e.Status.Detail);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && e.Status.Detail.StartsWith("disk full (", StringComparison.Ordinal))
        {
            // The server's disk is full: retryable (elsewhere, or once space is freed), not a malformed request. Counted
            // like a lost reply, because when the disk filled during the put it may have applied.
            return KvCall<T>.Lost($"{e.StatusCode}: {e.Status.Detail}");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            // The transport refused an oversized message: as malformed as an oversized value.
            return KvCall<T>.Reject(e.Status.Detail);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // The caller cancelled: say so the .NET way, as the simulated channel does, so code above (the lock's
            // renewal loop, a client loop being stopped) sees an OperationCanceledException and not a stray RpcException.
            throw new OperationCanceledException("the call was cancelled", e, cancellationToken);
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            return KvCall<T>.Lost(Flotilla.Transport.Grpc.RpcErrorText.Describe(e));
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels) channel.Dispose();
    }
}
