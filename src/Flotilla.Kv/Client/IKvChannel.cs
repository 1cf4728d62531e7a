using Flotilla.Kv.Protos;

namespace Flotilla.Kv.Client;

public enum KvCallOutcome
{
    /// <summary>A server processed the request; <see cref="KvCall{T}.Reply"/> is its answer.</summary>
    Answered,
    /// <summary>No answer (lost request or reply, timeout, unreachable): the request may or may not have been processed.</summary>
    NoAnswer,
    /// <summary>A server refused the request as malformed; it was not applied and retrying cannot help.</summary>
    Rejected,
}

/// <summary>One attempt at one endpoint.</summary>
public readonly record struct KvCall<T>(KvCallOutcome Outcome, T? Reply, string? Error) where T : class
{
    public static KvCall<T> Answer(T reply) => new(KvCallOutcome.Answered, reply, null);
    public static KvCall<T> Lost(string? error) => new(KvCallOutcome.NoAnswer, null, error);
    public static KvCall<T> Reject(string error) => new(KvCallOutcome.Rejected, null, error);
}

/// <summary>
/// How a <see cref="KvClient"/> reaches servers: a fixed list of endpoints and one attempt at a time. The simulated
/// runtime uses <see cref="TransportKvChannel"/> (ITransport), the real one <see cref="GrpcKvChannel"/> (typed gRPC).
/// A channel never throws for network trouble and never outlives <c>timeout</c>.
/// </summary>
public interface IKvChannel
{
    int EndpointCount { get; }

    string DescribeEndpoint(int endpoint);

    Task<KvCall<GetReply>> GetAsync(int endpoint, GetRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    Task<KvCall<PutReply>> PutAsync(int endpoint, PutRequest request, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>The endpoint a wrong-server answer's leader hint points at, or null when this channel cannot reach it
    /// (then the client goes on in turn). A channel may add an endpoint for a leader it was not given.</summary>
    int? EndpointOf(LeaderHint hint) => null;
}
