namespace Flotilla.Kv.Client;

/// <summary>What a KV operation ended with, as the client reports it.</summary>
public enum KvStatus
{
    Ok,
    /// <summary>Get: the key does not exist. Put: the key does not exist and the version was not 0.</summary>
    ErrNoKey,
    /// <summary>Put: the version did not match on the first attempt; the put was not applied.</summary>
    ErrVersion,
    /// <summary>Put: a retry was answered ErrVersion, so an earlier attempt may or may not have been applied.</summary>
    ErrMaybe,
    /// <summary>No server answered before the operation's deadline. A put may or may not have been applied.</summary>
    Unavailable,
    /// <summary>The request is malformed (empty or oversized key, oversized value); it was not applied.</summary>
    InvalidArgument,
}

public readonly record struct KvGetResult(KvStatus Status, string? Value = null, ulong Version = 0, string? Detail = null)
{
    public bool IsOk => Status == KvStatus.Ok;
}

public readonly record struct KvPutResult(KvStatus Status, string? Detail = null)
{
    public bool IsOk => Status == KvStatus.Ok;
}

/// <summary>The KV client API that the lock (and anything else built on the store) is written against.</summary>
public interface IKvClient
{
    Task<KvGetResult> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="value"/> if the key's version is <paramref name="version"/> (0 = create).</summary>
    Task<KvPutResult> PutAsync(string key, string value, ulong version, CancellationToken cancellationToken = default);
}
