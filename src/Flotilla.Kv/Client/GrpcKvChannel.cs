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
    private readonly Uri[] _endpoints;
    private readonly GrpcChannel[] _channels;
    private readonly Protos.Kv.KvClient[] _clients;

    /// <param name="tls">For https:// endpoints: whom to trust and which client certificate to present (mutual TLS);
    /// null uses the system's trust and no client certificate.</param>
    public GrpcKvChannel(IReadOnlyList<Uri> endpoints, System.Net.Security.SslClientAuthenticationOptions? tls = null)
    {
        if (endpoints.Count == 0) throw new ArgumentException("at least one endpoint is needed", nameof(endpoints));
        _endpoints = endpoints.ToArray();
        _channels = _endpoints.Select(e => GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            HttpHandler = tls is null ? null : new SocketsHttpHandler { EnableMultipleHttp2Connections = true, SslOptions = tls },
            // Room for the largest legal value plus framing; the server enforces the real limits.
            MaxSendMessageSize = KvLimits.ValueBytesMax + KvLimits.KeyBytesMax + 1024,
            MaxReceiveMessageSize = KvLimits.ValueBytesMax + KvLimits.KeyBytesMax + 1024,
        })).ToArray();
        _clients = _channels.Select(c => new Protos.Kv.KvClient(c)).ToArray();
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

    public int EndpointCount => _endpoints.Length;

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
