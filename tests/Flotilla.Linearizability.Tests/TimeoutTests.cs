using System.Diagnostics;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using static Flotilla.Linearizability.Tests.Support.Kv;

namespace Flotilla.Linearizability.Tests;

public class TimeoutTests
{
    /// <summary>
    /// 40 concurrent creates of one key, all ErrMaybe, then an impossible read. Every subset of the creates leads to a
    /// different set of possible states, so even with memoization the search has 2^40 configurations to refute.
    /// </summary>
    private static Operation<KvInput, KvOutput>[] Pathological()
    {
        var ops = Enumerable.Range(0, 40).Select(i => Put(i, i, 1_000, "k", $"v{i}", 0, KvOutput.Maybe)).ToList();
        ops.Add(Get(99, 2_000, 3_000, "k", "nobody wrote this", 1));
        return [.. ops];
    }

    [Fact]
    public void SearchThatRunsOutOfTimeReportsUnknownNotOk()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        var clock = Stopwatch.StartNew();
        var result = VersionedKv.Check(Pathological(), CheckOptions.WithTimeout(timeout));
        clock.Stop();

        Assert.Equal(CheckOutcome.Unknown, result.Outcome);
        Assert.False(result.IsLinearizable);
        Assert.Equal(UnknownCause.TimedOut, Assert.Single(result.Partitions).UnknownCause);
        // The search must notice the deadline promptly, not run on for ages.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void SearchThatOutgrowsTheStateLimitReportsUnknownNotOk()
    {
        var report = VersionedKv.CheckAndReport(Pathological(), new CheckOptions { MaxVisitedStatesPerPartition = 5_000 });
        Assert.Equal(CheckOutcome.Unknown, report.Result.Outcome);
        var partition = Assert.Single(report.Result.Partitions);
        Assert.Equal(UnknownCause.StateLimit, partition.UnknownCause);
        Assert.InRange(partition.StatesExplored, 5_000, 5_000 + 2_048);
        Assert.StartsWith("unknown (search too large: ", report.Summary());
    }

    [Fact]
    public void IllegalKeyWinsOverATimedOutKey()
    {
        var history = Pathological().Concat(
        [
            Put(1, 0, 10, "other", "a", 0),
            GetNoKey(2, 20, 30, "other"),
        ]).ToArray();
        var result = VersionedKv.Check(history, CheckOptions.WithTimeout(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        Assert.Equal("other", Assert.Single(result.FailedPartitions).Key);
    }

    [Fact]
    public void CallerCancellationThrowsInsteadOfGivingAVerdict()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.ThrowsAny<OperationCanceledException>(() => VersionedKv.Check(Pathological(), cancellation: cancel.Token));
    }
}
