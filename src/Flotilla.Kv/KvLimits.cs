using System.Text;
using Flotilla.Kv.Protos;

namespace Flotilla.Kv;

/// <summary>
/// Size limits of keys and values, enforced by every server (a request beyond them is rejected as malformed,
/// never applied) and checked early by clients. Bounded so one request cannot exhaust a server's memory or a
/// transport's message limit.
/// </summary>
public static class KvLimits
{
    /// <summary>Largest key, in UTF-8 bytes. Keys must also be non-empty.</summary>
    public const int KeyBytesMax = 1024;

    /// <summary>Largest value, in UTF-8 bytes.</summary>
    public const int ValueBytesMax = 1024 * 1024;

    /// <summary>Largest request or reply message a KV server's gRPC port takes or sends: a key and a value at their
    /// limits plus room, so a value just over its limit still arrives and is refused with the precise reason, while
    /// anything much larger is refused (RESOURCE_EXHAUSTED) from its length prefix before it is buffered.</summary>
    public const int MessageBytesMax = KeyBytesMax + ValueBytesMax + 64 * 1024;

    /// <summary>The Kestrel limits a KV server runs with.</summary>
    public static Flotilla.Transport.Grpc.ClientPortLimits ClientPort { get; } = new()
    {
        MaxReceiveMessageBytes = MessageBytesMax,
        MaxSendMessageBytes = MessageBytesMax,
        MaxStreamsPerConnection = 16,
    };

    /// <summary>Why a get request is malformed, or null when it is fine.</summary>
    public static string? Validate(GetRequest request) => ValidateKey(request.Key);

    /// <summary>Why a put request is malformed, or null when it is fine.</summary>
    public static string? Validate(PutRequest request)
    {
        if (ValidateKey(request.Key) is { } keyError) return keyError;
        var valueBytes = Encoding.UTF8.GetByteCount(request.Value);
        if (valueBytes > ValueBytesMax) return $"value is {valueBytes} bytes; the limit is {ValueBytesMax}";
        // A key at the largest version could never be written again; refuse rather than wrap around to 0.
        if (request.Version == ulong.MaxValue) return "version 18446744073709551615 cannot be incremented";
        return null;
    }

    private static string? ValidateKey(string key)
    {
        if (key.Length == 0) return "key is empty";
        var keyBytes = Encoding.UTF8.GetByteCount(key);
        return keyBytes > KeyBytesMax ? $"key is {keyBytes} bytes; the limit is {KeyBytesMax}" : null;
    }
}
