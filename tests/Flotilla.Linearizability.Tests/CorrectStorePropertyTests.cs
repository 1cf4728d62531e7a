using CsCheck;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using Flotilla.Linearizability.Tests.Support;

namespace Flotilla.Linearizability.Tests;

/// <summary>Over many random seeds: histories of a correct store always pass, and one stale read always fails.</summary>
public class CorrectStorePropertyTests
{
    private static readonly Gen<(int Seed, int Clients, int Keys)> GenScenario =
        Gen.Select(Gen.Int, Gen.Int[2, 12], Gen.Int[1, 4]);

    private static SimulatedKvStore.Generated Generate((int Seed, int Clients, int Keys) s) =>
        SimulatedKvStore.Generate(s.Seed, new SimulatedKvStore.Options(s.Clients, Operations: 300, s.Keys, ErrMaybeRate: 0.15, PendingRate: 0.03));

    [Fact]
    public void HistoriesOfACorrectStoreAreAlwaysLinearizable() =>
        GenScenario.Sample(
            scenario => Assert.Equal(CheckOutcome.Ok, VersionedKv.Check(Generate(scenario).History).Outcome),
            iter: 200,
            threads: 1);

    [Fact]
    public void OneStaleReadInAnOtherwiseCorrectHistoryIsAlwaysCaught()
    {
        var injected = 0;
        GenScenario.Sample(
            scenario =>
            {
                if (SimulatedKvStore.TryInjectStaleRead(Generate(scenario)) is not var (history, staleIndex)) return;
                injected++;
                var result = VersionedKv.Check(history);
                Assert.Equal(CheckOutcome.Illegal, result.Outcome);
                Assert.Contains(staleIndex, Assert.Single(result.FailedPartitions).Operations);
            },
            iter: 200,
            threads: 1);
        Assert.True(injected > 100, $"only {injected} scenarios had a get to make stale");
    }
}
