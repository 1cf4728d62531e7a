namespace Flotilla.Kv.Lock;

/// <summary>
/// What the lock key holds: <c>"free"</c>, or <c>"held:TOKEN"</c> where TOKEN is unique per acquisition, so a client
/// whose put came back ErrMaybe can tell by reading whether its own write won.
/// </summary>
internal static class KvLockValue
{
    public const string Free = "free";
    private const string HeldPrefix = "held:";

    public static string Held(string token) => HeldPrefix + token;

    public static bool IsFree(string value) => value == Free;

    public static bool IsHeldBy(string value, string token) => value == Held(token);
}
