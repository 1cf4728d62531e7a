using System.Text.Json;

namespace Flotilla.ShardKv;

/// <summary>
/// The sharded store's commands, replies and snapshots are JSON (small and rare, so readability costs nothing). Bytes
/// that do not decode were not written by us: that is damaged data, reported as <see cref="InvalidDataException"/>
/// like every other codec in Flotilla, never a raw <see cref="JsonException"/>.
/// </summary>
internal static class LogJson
{
    public static byte[] Write<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value);

    public static T Read<T>(ReadOnlySpan<byte> bytes, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(bytes) ?? throw new InvalidDataException($"empty {what}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"undecodable {what}: {e.Message}", e);
        }
    }
}
