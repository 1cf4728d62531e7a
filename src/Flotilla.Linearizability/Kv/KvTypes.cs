namespace Flotilla.Linearizability.Kv;

public enum KvOp
{
    Get,
    Put,
}

/// <summary>A versioned-KV request: <c>Get(key)</c>, or <c>Put(key, value, version)</c> which succeeds only if the key's
/// current version equals <see cref="Version"/> (0 = "create: the key must be absent").</summary>
public sealed record KvInput(KvOp Op, string Key, string? Value = null, long Version = 0)
{
    public static KvInput Get(string key) => new(KvOp.Get, key);

    public static KvInput Put(string key, string value, long version) => new(KvOp.Put, key, value, version);
}

public enum KvError
{
    /// <summary>Success (JSON <c>"error": null</c>).</summary>
    Ok,
    /// <summary>Get: the key does not exist. Put: the key does not exist and the put was not a create (version ≠ 0).</summary>
    ErrNoKey,
    /// <summary>Put: the version did not match; nothing changed.</summary>
    ErrVersion,
    /// <summary>Put: a retry got ErrVersion, so an earlier attempt may or may not have been applied.</summary>
    ErrMaybe,
}

/// <summary>A versioned-KV reply. For a successful Get, <see cref="Value"/> and <see cref="Version"/> are what was read;
/// for everything else they are ignored.</summary>
public sealed record KvOutput(KvError Error, string? Value = null, long Version = 0)
{
    public static KvOutput Ok { get; } = new(KvError.Ok);

    public static KvOutput NoKey { get; } = new(KvError.ErrNoKey);

    public static KvOutput VersionMismatch { get; } = new(KvError.ErrVersion);

    public static KvOutput Maybe { get; } = new(KvError.ErrMaybe);

    public static KvOutput Read(string value, long version) => new(KvError.Ok, value, version);
}

/// <summary>The state of one key: its value and version; an absent key has version 0 (and no value).</summary>
public readonly record struct KvState(string? Value, long Version)
{
    public static KvState Absent => default;

    public bool Exists => Version != 0;
}
