using CsCheck;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Linearizability.Tests;

/// <summary>
/// The checker against the definition: for small random single-key histories (random, mostly wrong, outputs), try every
/// order that respects real time and see if the spec accepts one. The two must always agree.
/// </summary>
public class BruteForceAgreementTests
{
    private static readonly VersionedKvSpec Spec = new();

    private static readonly Gen<KvOutput?> GenOutput = Gen.Int[0, 5].SelectMany(kind => kind switch
    {
        0 => Gen.Const<KvOutput?>(KvOutput.Ok),
        1 => Gen.Const<KvOutput?>(KvOutput.NoKey),
        2 => Gen.Const<KvOutput?>(KvOutput.VersionMismatch),
        3 => Gen.Const<KvOutput?>(KvOutput.Maybe),
        _ => Gen.Select(Gen.Int[0, 2], Gen.Int[1, 3], (v, ver) => (KvOutput?)KvOutput.Read($"v{v}", ver)),
    });

    private static readonly Gen<Operation<KvInput, KvOutput>> GenOperation =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 20], Gen.Int[0, 12], Gen.Int[0, 9], Gen.Bool, Gen.Int[0, 2], Gen.Int[0, 3], GenOutput,
            (client, call, duration, pendingDie, isGet, value, version, output) =>
            {
                var input = isGet ? KvInput.Get("k") : KvInput.Put("k", $"v{value}", version);
                var pending = pendingDie == 0;
                if (isGet && output is { Error: KvError.Ok, Value: null }) output = KvOutput.Read("v0", 1);
                return new Operation<KvInput, KvOutput>(client, input, call, pending ? null : output, pending ? null : call + duration);
            });

    [Fact]
    public void CheckerAgreesWithExhaustiveSearchOnSmallHistories()
    {
        var linearizable = 0;
        var total = 0;
        GenOperation.Array[0, 7].Sample(
            history =>
            {
                var expected = BruteForceLinearizable(history);
                var actual = VersionedKv.Check(history).Outcome;
                Assert.Equal(expected ? CheckOutcome.Ok : CheckOutcome.Illegal, actual);
                total++;
                if (expected) linearizable++;
            },
            iter: 20_000,
            threads: 1,
            print: h => string.Join("; ", h.Select(o => $"c{o.ClientId}[{o.CallTime},{o.ReturnTime?.ToString() ?? "∞"}] {Spec.DescribeOperation(o.Input, o.EffectiveOutput)}")));
        // Both verdicts must be well represented, or the agreement proves little.
        Assert.InRange(linearizable, total / 10, total - total / 10);
    }

    /// <summary>Linearizable iff some real-time-respecting order is accepted from some reachable state.</summary>
    private static bool BruteForceLinearizable(IReadOnlyList<Operation<KvInput, KvOutput>> history) =>
        Search(history, new bool[history.Count], KvState.Absent, history.Count);

    private static bool Search(IReadOnlyList<Operation<KvInput, KvOutput>> history, bool[] done, KvState state, int remaining)
    {
        if (remaining == 0) return true;
        for (var i = 0; i < history.Count; i++)
        {
            if (done[i] || !IsMinimal(history, done, i)) continue;
            done[i] = true;
            foreach (var next in Spec.Step(state, history[i].Input, history[i].EffectiveOutput))
            {
                if (Search(history, done, next, remaining - 1))
                {
                    done[i] = false;
                    return true;
                }
            }
            done[i] = false;
        }
        return false;
    }

    /// <summary>No remaining operation returned strictly before this one was called.</summary>
    private static bool IsMinimal(IReadOnlyList<Operation<KvInput, KvOutput>> history, bool[] done, int i)
    {
        for (var j = 0; j < history.Count; j++)
            if (!done[j] && j != i && history[j].ReturnTime is { } ret && ret < history[i].CallTime) return false;
        return true;
    }
}
