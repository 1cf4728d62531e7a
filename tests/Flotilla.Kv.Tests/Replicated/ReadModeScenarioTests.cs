using Flotilla.Kv.Replicated.Testing;
using Flotilla.Raft;
using Flotilla.Simulation;
using Xunit.Abstractions;

namespace Flotilla.Kv.Tests.Replicated;

/// <summary>
/// Lease reads and follower reads under the linearizability checker (docs/raft.md "Reads"), and the mutation check
/// that a lease measured in ticks is caught by the paused-leader scenario. FLOTILLA_SEEDS=N for more seeds.
/// </summary>
public class ReadModeScenarioTests(ITestOutputHelper output)
{
    [Fact] public void LeaseReadsContendedWithPartitionsLossAndCrashes() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.LeaseReadsContended);
    [Fact] public void FollowerReadsContendedWithPartitionsLossAndCrashes() => SeedRunner.ForSeeds(3, ReplicatedKvScenarios.FollowerReadsContended);
    [Fact] public void LeaseReadsAPausedOldLeaderServesNoStaleRead() => SeedRunner.ForSeeds(10, ReplicatedKvScenarios.LeaseReadsPausedLeader);

    /// <summary>Mutation check: the lease measured in ticks. The paused leader resumes with the tick count it had
    /// when it stopped, believes its lease holds, and answers the get with the value the new leader's put
    /// overwrote; the checker must call some seed's history illegal.</summary>
    [Fact]
    public void ATickBasedLeaseIsCaughtByThePausedLeaderScenario()
    {
        for (var seed = 1UL; seed <= 10; seed++)
        {
            var sim = new Simulator(seed);
            var failure = Record.Exception(() => ReplicatedKvScenarios.PausedLeader(sim, ReadMode.Lease, ReplicatedKvMutation.TickBasedLease));
            if (failure is null) continue;
            output.WriteLine($"seed {seed}: {failure.Message}");
            Assert.IsType<KvScenarioException>(failure);
            Assert.Contains("Illegal", failure.Message);
            return;
        }
        Assert.Fail("a tick-based lease was not caught by any seed in 1..10");
    }

    /// <summary>The follower-read scenario really has followers answering gets, and the lease scenario really
    /// answers gets from the lease (without these, both would pass trivially as leader-ReadIndex runs).</summary>
    [Fact]
    public void TheReadModesAreExercised()
    {
        foreach (var (mode, what) in new[] { (ReadMode.Lease, "by lease"), (ReadMode.Follower, "by followers") })
        {
            var sim = new Simulator(1);
            ReplicatedKvScenarios.RunGeneric(sim, new GenericSpec(Clients: 3, Rounds: 1, RoundMs: 1000, Reads: mode));
            var summary = sim.RecentLog().Last(l => l.Contains("reads since the last restart"));
            output.WriteLine($"{mode}: {summary}");
            var count = int.Parse(System.Text.RegularExpressions.Regex.Match(summary, $@"(\d+) {what}").Groups[1].Value);
            Assert.True(count >= 20, $"{mode}: only {count} reads served {what}");
        }
    }
}
