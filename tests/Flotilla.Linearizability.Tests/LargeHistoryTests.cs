using System.Diagnostics;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using Flotilla.Linearizability.Tests.Support;
using Xunit.Abstractions;

namespace Flotilla.Linearizability.Tests;

/// <summary>Histories of the size the store tests produce: 10,000 operations from 50 clients over a few dozen keys.</summary>
public class LargeHistoryTests(ITestOutputHelper output)
{
    private static readonly SimulatedKvStore.Options TenThousandOps = new(Clients: 50, Operations: 10_000, Keys: 30);

    /// <summary>Generous: the check takes well under a second on a laptop; this only catches a blow-up.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    [Fact]
    public void TenThousandOperationsFromACorrectStoreAreLinearizableWithinBudget()
    {
        var generated = SimulatedKvStore.Generate(seed: 1, TenThousandOps);
        Assert.Equal(10_000, generated.History.Count);
        Assert.Contains(generated.History, op => op.IsPending);
        Assert.Contains(generated.History, op => op.Output is { Error: KvError.ErrMaybe });

        var clock = Stopwatch.StartNew();
        var result = VersionedKv.Check(generated.History, CheckOptions.WithTimeout(Budget));
        clock.Stop();

        output.WriteLine($"10k ops / 50 clients / 30 keys: {result.Outcome} in {clock.Elapsed.TotalMilliseconds:0} ms, " +
                         $"{result.Partitions.Sum(p => p.StatesExplored)} states explored");
        Assert.Equal(CheckOutcome.Ok, result.Outcome);
        Assert.True(clock.Elapsed < Budget, $"took {clock.Elapsed}");
        Assert.Equal(30, result.Partitions.Count);
        Assert.All(result.Partitions, p => Assert.Equal(p.Operations.Count, p.LongestLinearization.Count));
    }

    [Fact]
    public void TheSameHistoryWithOneInjectedStaleReadIsNotLinearizable()
    {
        var generated = SimulatedKvStore.Generate(seed: 1, TenThousandOps);
        var (history, staleIndex) = SimulatedKvStore.InjectStaleRead(generated);

        var clock = Stopwatch.StartNew();
        var result = VersionedKv.Check(history, CheckOptions.WithTimeout(Budget));
        clock.Stop();

        output.WriteLine($"10k ops with one stale read: {result.Outcome} in {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        var failed = Assert.Single(result.FailedPartitions);
        Assert.Equal(history[staleIndex].Input.Key, failed.Key);
        Assert.Contains(staleIndex, failed.Operations);
    }

    [Fact]
    public void TenThousandOperationsOnThreeHotKeysAreLinearizableWithinBudget()
    {
        // ~15 operations in flight per key at any time: the worst overlap a store test is likely to produce.
        var generated = SimulatedKvStore.Generate(seed: 5, TenThousandOps with { Keys = 3 });
        var clock = Stopwatch.StartNew();
        var result = VersionedKv.Check(generated.History, CheckOptions.WithTimeout(Budget));
        clock.Stop();
        output.WriteLine($"10k ops / 50 clients / 3 keys: {result.Outcome} in {clock.Elapsed.TotalMilliseconds:0} ms, " +
                         $"{result.Partitions.Sum(p => p.StatesExplored)} states explored");
        Assert.Equal(CheckOutcome.Ok, result.Outcome);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void CorrectStoreHistoriesOverOtherSeedsAreLinearizable(int seed)
    {
        // Hotter keys and more ErrMaybe/pending operations than the big test: more nondeterminism per key.
        var generated = SimulatedKvStore.Generate(seed, new SimulatedKvStore.Options(Clients: 20, Operations: 2_000, Keys: 3, ErrMaybeRate: 0.2, PendingRate: 0.02));
        var result = VersionedKv.Check(generated.History, CheckOptions.WithTimeout(Budget));
        Assert.Equal(CheckOutcome.Ok, result.Outcome);
    }
}
