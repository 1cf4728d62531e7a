using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Linearizability.Tests.Support;

/// <summary>
/// Generates histories of a correct (atomic, in-memory) versioned-KV store used by many concurrent clients: each
/// operation takes effect at one random instant between its call and its return, so the history is linearizable by
/// construction. Clients pick a put's version from what the store holds when they call, as real clients do after a
/// get, so there is real contention (ErrVersion) on hot keys. Some replies are turned into ErrMaybe, and some
/// operations never return (their effect is applied or lost at random).
/// </summary>
internal sealed class SimulatedKvStore
{
    public sealed record Options(int Clients, int Operations, int Keys, double ErrMaybeRate = 0.05, double PendingRate = 0.005);

    public sealed record Generated(IReadOnlyList<Operation<KvInput, KvOutput>> History, IReadOnlyDictionary<(string Key, long Version), string> Values);

    private sealed class Op
    {
        public required int Client;
        public required long Call;
        public required long EffectAt;
        public required long Return;
        public required bool Pending;
        public KvInput? Input;
        public KvOutput? Output;
    }

    public static Generated Generate(int seed, Options options)
    {
        var rng = new Random(seed);
        var ops = new List<Op>(options.Operations);
        var perClient = (options.Operations + options.Clients - 1) / options.Clients;
        for (var client = 0; client < options.Clients; client++)
        {
            long t = rng.Next(0, 1_000);
            for (var i = 0; i < perClient && ops.Count < options.Operations; i++)
            {
                var call = t + rng.Next(0, 300);
                // Mostly quick operations, sometimes a slow one (a retry, a leader change).
                var duration = rng.NextDouble() < 0.05 ? rng.Next(2_000, 20_000) : rng.Next(50, 2_000);
                ops.Add(new Op
                {
                    Client = client,
                    Call = call,
                    EffectAt = call + 1 + rng.Next(0, duration - 1),
                    Return = call + duration,
                    Pending = rng.NextDouble() < options.PendingRate,
                });
                t = call + duration;
            }
        }

        // Replay calls and effects in time order: inputs are chosen at the call, outputs computed at the effect.
        var events = new List<(long Time, bool IsEffect, Op Op)>(2 * ops.Count);
        foreach (var op in ops)
        {
            events.Add((op.Call, false, op));
            events.Add((op.EffectAt, true, op));
        }
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.IsEffect.CompareTo(b.IsEffect));

        var store = new Dictionary<string, KvState>();
        var values = new Dictionary<(string, long), string>();
        var written = 0;
        foreach (var (_, isEffect, op) in events)
        {
            if (!isEffect)
            {
                var key = "k" + rng.Next(options.Keys);
                var current = store.GetValueOrDefault(key);
                if (rng.NextDouble() < 0.5) op.Input = KvInput.Get(key);
                else
                {
                    var version = rng.NextDouble() switch
                    {
                        < 0.8 => current.Version,
                        < 0.9 => Math.Max(0, current.Version - 1),
                        _ => current.Version + 1,
                    };
                    op.Input = KvInput.Put(key, $"c{op.Client}-{written++}", version);
                }
                continue;
            }
            var input = op.Input!;
            var state = store.GetValueOrDefault(input.Key);
            if (input.Op == KvOp.Get)
            {
                op.Output = state.Exists ? KvOutput.Read(state.Value!, state.Version) : KvOutput.NoKey;
                continue;
            }
            // A pending put's request may have been lost before it reached the store.
            if (op.Pending && rng.NextDouble() < 0.5) continue;
            if (state.Version == input.Version)
            {
                var next = new KvState(input.Value, input.Version + 1);
                store[input.Key] = next;
                values[(input.Key, next.Version)] = input.Value!;
                op.Output = KvOutput.Ok;
            }
            else
            {
                op.Output = !state.Exists && input.Version != 0 ? KvOutput.NoKey : KvOutput.VersionMismatch;
            }
            if (rng.NextDouble() < options.ErrMaybeRate) op.Output = KvOutput.Maybe;
        }

        var history = ops
            .OrderBy(o => o.Call)
            .Select(o => new Operation<KvInput, KvOutput>(o.Client, o.Input!, o.Call, o.Pending ? null : o.Output, o.Pending ? null : o.Return))
            .ToArray();
        return new Generated(history, values);
    }

    /// <summary>
    /// Replaces one get's reply with the previous version of its key, choosing a get that must have seen a newer
    /// version: an earlier get on the same key, which returned before this one was called, already read that version.
    /// Returns the index of the altered get.
    /// </summary>
    public static (Operation<KvInput, KvOutput>[] History, int StaleIndex) InjectStaleRead(Generated generated) =>
        TryInjectStaleRead(generated) ?? throw new InvalidOperationException("no get qualifies for a stale read");

    public static (Operation<KvInput, KvOutput>[] History, int StaleIndex)? TryInjectStaleRead(Generated generated)
    {
        var history = generated.History.ToArray();
        // History is in call order; track the newest version seen by gets that returned before each call.
        var returnedGets = history.Select((op, i) => (op, i))
            .Where(x => x.op.Input.Op == KvOp.Get && x.op.Output is { Error: KvError.Ok })
            .ToArray();
        for (var j = 0; j < returnedGets.Length; j++)
        {
            var (candidate, index) = returnedGets[j];
            if (candidate.Output!.Version < 2) continue;
            var witnessed = returnedGets.Any(x =>
                x.op.Input.Key == candidate.Input.Key && x.op.ReturnTime < candidate.CallTime && x.op.Output!.Version >= candidate.Output.Version);
            if (!witnessed) continue;
            var staleVersion = candidate.Output.Version - 1;
            var staleValue = generated.Values[(candidate.Input.Key, staleVersion)];
            history[index] = candidate with { Output = KvOutput.Read(staleValue, staleVersion) };
            return (history, index);
        }
        return null;
    }
}
