using Flotilla.Kv.Replicated.Testing;
using Flotilla.Simulation;
using Xunit.Abstractions;

namespace Flotilla.Kv.Tests.Replicated;

/// <summary>
/// The GenericTest shapes share a few keys between all clients, so the checker has something to decide: histories
/// hold many same-key operations of different clients that overlap in time, and a server that serves stale reads is
/// caught. With the lab's one key per client there is no such overlap, and the same bug goes unnoticed.
/// </summary>
public class ContendedHistoryTests(ITestOutputHelper output)
{
    /// <summary>One round of 2 s instead of five of 5 s: enough to show the shape, cheaper for CI.</summary>
    private static readonly GenericSpec ShortConcurrent = new(Clients: 5, Rounds: 1, RoundMs: 2000);

    [Fact]
    public void ContendedHistoriesOverlapOnTheSameKeyAndOwnKeyHistoriesDoNot() => SeedRunner.ForSeeds(1, sim =>
    {
        var contended = HistoryContention.Measure(ReplicatedKvScenarios.RunGeneric(sim, ShortConcurrent));
        var ownKeys = HistoryContention.Measure(ReplicatedKvScenarios.RunGeneric(new Simulator(sim.Seed), ShortConcurrent with { OwnKeys = true }));
        output.WriteLine($"seed {sim.Seed}: contended {contended}, own keys {ownKeys}");
        Assert.Equal(ReplicatedKvScenarios.SharedKeys, contended.ContendedKeys);
        Assert.True(contended.OverlappingPairs >= 100, $"only {contended.OverlappingPairs} overlapping same-key pairs");
        Assert.Equal(0, ownKeys.OverlappingPairs);
    });

    /// <summary>
    /// Mutation check: replicas answer gets from their local state without ReadIndex. Right after every server
    /// restarts, a follower has not yet learned that the last puts before the crash committed, and the client that
    /// still prefers it reads a value older than one another client was told was written; the contended scenario
    /// (the persist-concurrent shape, three rounds of 1 s) must find such a history illegal for some seed in 1..10.
    /// </summary>
    [Fact]
    public void StaleLocalReadsAreCaughtByTheContendedScenario()
    {
        var spec = new GenericSpec(Clients: 5, Crash: true, Rounds: 3, RoundMs: 1000, Mutation: ReplicatedKvMutation.LocalReadsWithoutReadIndex);
        for (var seed = 1UL; seed <= 10; seed++)
        {
            var failure = Record.Exception(() => ReplicatedKvScenarios.RunGeneric(new Simulator(seed), spec));
            if (failure is null) continue;
            output.WriteLine($"seed {seed}: {failure.Message}");
            Assert.IsType<KvScenarioException>(failure);
            Assert.Contains("Illegal", failure.Message);
            return;
        }
        Assert.Fail("serving reads without ReadIndex was not caught by any seed in 1..10");
    }
}
