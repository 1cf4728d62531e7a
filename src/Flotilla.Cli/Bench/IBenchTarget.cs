namespace Flotilla.Cli.Bench;

/// <summary>
/// A system the load generator drives (Flotilla's KV, etcd, or a fake in tests). The engine opens one
/// <see cref="IBenchSession"/> per client loop, so whatever a session holds (a gRPC channel, a retrying client)
/// is never shared between loops.
/// </summary>
public interface IBenchTarget : IAsyncDisposable
{
    /// <summary>"flotilla", "etcd", ...: printed in results.</summary>
    string Name { get; }

    /// <summary>Where it is (for output): e.g. "127.0.0.1:2379,127.0.0.1:22379".</summary>
    string Description { get; }

    /// <summary>Opens client <paramref name="clientIndex"/>'s session. Every request made through it must give up
    /// by <paramref name="requestTimeout"/> (the engine also relies on that to stop on time).</summary>
    IBenchSession OpenSession(int clientIndex, TimeSpan requestTimeout);
}

/// <summary>One client's connection to the target. Used by one loop, one request at a time; never throws for
/// network trouble (that is a <see cref="BenchStatus"/>), only for cancellation.</summary>
public interface IBenchSession : IAsyncDisposable
{
    Task<BenchRead> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="value"/>. A target with conditional puts (Flotilla) applies it only if the key
    /// is at <paramref name="expectedVersion"/> (0 = absent); a target with blind puts (etcd) ignores it and reports
    /// the version it overwrote in <see cref="BenchWrite.PreviousVersion"/> when it can.</summary>
    Task<BenchWrite> PutAsync(string key, string value, long expectedVersion, CancellationToken cancellationToken);
}

/// <summary>How one request ended.</summary>
public enum BenchStatus
{
    Ok,
    /// <summary>Get: no such key. Put (conditional): no such key and the expected version was not 0.</summary>
    ErrNoKey,
    /// <summary>Put (conditional): the key is at another version; nothing was applied.</summary>
    ErrVersion,
    /// <summary>Put: a retry was refused, so an earlier attempt may or may not have been applied.</summary>
    ErrMaybe,
    /// <summary>No answer by the deadline (timeout, refused connection, lost leader): the outcome is unknown.</summary>
    Unavailable,
    /// <summary>The target refused the request as malformed: not applied.</summary>
    Rejected,
}

/// <summary>A get's answer: for <see cref="BenchStatus.Ok"/>, the value and the key's version (1 after creation,
/// +1 per write: Flotilla's version, etcd's per-key <c>version</c>).</summary>
public readonly record struct BenchRead(BenchStatus Status, string? Value = null, long Version = 0, string? Detail = null);

/// <summary>A put's answer. <see cref="PreviousVersion"/>: the version the put was applied on top of (so the key is now
/// at PreviousVersion + 1), or null when the target cannot say.</summary>
public readonly record struct BenchWrite(BenchStatus Status, long? PreviousVersion = null, string? Detail = null);
