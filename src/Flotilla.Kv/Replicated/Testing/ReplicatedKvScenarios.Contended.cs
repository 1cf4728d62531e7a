using Flotilla.Kv.Client;

namespace Flotilla.Kv.Replicated.Testing;

// The contended client of the GenericTest shapes: many clients race on a few shared keys, so the checker must find
// one order for operations that overlap in time on the same key (with one key per client there is nothing to decide).
public static partial class ReplicatedKvScenarios
{
    /// <summary>How much of an earlier value an append-like write keeps: enough to show the chain, bounded so values
    /// do not grow without limit.</summary>
    private const int AppendTailChars = 48;

    /// <summary>
    /// Loops over a mix on <paramref name="keys"/> shared keys: plain gets (40%); read-modify-write "appends" (a get,
    /// then a put at the version read whose value extends the one read: 30%); blind creates at version 0, which
    /// succeed only while the key is absent (10%); and puts at the last version this client saw, without reading
    /// first, which race every other writer (20%). Values are unique per client, round and step. Returns how many
    /// operations got a definite answer.
    /// </summary>
    private static async Task<int> ContendedLoopAsync(RecordingClient client, Random random, int keys, int round, Func<bool> stop)
    {
        var answered = 0;
        var n = 0;
        var lastSeen = new Dictionary<string, ulong>();
        string Token() => $"c{client.ClientId}-r{round}-{n++}-{Padding}";
        while (!stop())
        {
            var key = $"k{random.Next(keys)}";
            var pick = random.Next(10);
            if (pick < 7)
            {
                var get = await client.GetAsync(key);
                if (get.Status is KvStatus.Unavailable) continue;
                answered++;
                lastSeen[key] = get.IsOk ? get.Version : 0;
                if (pick < 4) continue;
                var tail = get.IsOk ? get.Value![..Math.Min(AppendTailChars, get.Value!.Length)] : "";
                if (await client.PutAsync(key, $"{Token()}<{tail}", get.IsOk ? get.Version : 0) is { Status: not KvStatus.Unavailable }) answered++;
                continue;
            }
            var version = pick == 7 ? 0 : lastSeen.GetValueOrDefault(key);
            var put = await client.PutAsync(key, Token(), version);
            if (put.Status is KvStatus.Unavailable) continue;
            answered++;
            if (put.Status is KvStatus.Ok) lastSeen[key] = version + 1;
        }
        return answered;
    }
}
