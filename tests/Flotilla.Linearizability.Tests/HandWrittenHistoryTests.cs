using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using static Flotilla.Linearizability.Tests.Support.Kv;

namespace Flotilla.Linearizability.Tests;

/// <summary>Small histories whose verdict can be worked out by hand. Times are abstract ticks.</summary>
public class HandWrittenHistoryTests
{
    [Fact]
    public void EmptyHistoryIsLinearizable() => Assert.Equal(CheckOutcome.Ok, Check());

    [Fact]
    public void SequentialCreateUpdateAndReadsAreLinearizable() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            GetNoKey(1, 0, 5, "k"),
            Put(1, 10, 20, "k", "a", 0),
            Get(2, 30, 40, "k", "a", 1),
            Put(2, 50, 60, "k", "b", 1),
            Get(1, 70, 80, "k", "b", 2)));

    [Fact]
    public void ReadConcurrentWithAPutMaySeeTheOldValue() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 50, "k", "b", 1),
            Get(2, 25, 40, "k", "a", 1)));

    [Fact]
    public void ReadConcurrentWithAPutMaySeeTheNewValue() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 50, "k", "b", 1),
            Get(2, 25, 40, "k", "b", 2)));

    [Fact]
    public void StaleReadAfterACompletedPutIsNotLinearizable() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 30, "k", "b", 1),
            Get(2, 40, 50, "k", "a", 1)));

    [Fact]
    public void ReadsThatGoBackInTimeAreNotLinearizableEvenDuringAConcurrentPut() =>
        // Client 2 sees the new value, then client 3 (starting after client 2 returned) sees the old one.
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 100, "k", "b", 1),
            Get(2, 30, 40, "k", "b", 2),
            Get(3, 50, 60, "k", "a", 1)));

    [Fact]
    public void ConcurrentOperationsAreOrderedToFitTheirOutputs() =>
        // All three overlap; the only valid order is create(a), put(b over a), get → b.
        Assert.Equal(CheckOutcome.Ok, Check(
            Get(3, 0, 100, "k", "b", 2),
            Put(2, 1, 99, "k", "b", 1),
            Put(1, 2, 98, "k", "a", 0)));

    [Fact]
    public void TwoSuccessfulCreatesOfOneKeyAreNotLinearizable() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(2, 0, 10, "k", "b", 0)));

    [Fact]
    public void ConcurrentCreatesWhereTheLoserGotErrVersionAreLinearizable() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 0, KvOutput.VersionMismatch),
            Put(2, 0, 10, "k", "b", 0),
            Get(3, 20, 30, "k", "b", 1)));

    [Fact]
    public void ErrVersionForAPutWhoseVersionMatchedIsNotLinearizable() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 30, "k", "b", 1, KvOutput.VersionMismatch)));

    [Fact]
    public void ErrVersionFromAPutOnAnAbsentKeyIsNotLinearizable() =>
        // The server answers ErrNoKey here; a store that answered ErrVersion is wrong even though nothing changed.
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 4, KvOutput.VersionMismatch),
            GetNoKey(2, 20, 30, "k")));

    [Fact]
    public void ErrVersionFromAPutOnAnAbsentKeyIsLinearizableOnlyIfACreateMayHaveComeFirst() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 4, KvOutput.VersionMismatch),
            Put(2, 0, 10, "k", "b", 0),
            Get(3, 20, 30, "k", "b", 1)));

    [Fact]
    public void ErrNoKeyFromAGetAfterACompletedCreateIsNotLinearizable() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 0),
            GetNoKey(2, 20, 30, "k")));

    [Fact]
    public void ErrNoKeyFromAPutOnAnAbsentKeyIsLinearizable() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 4, KvOutput.NoKey),
            GetNoKey(2, 20, 30, "k")));

    [Fact]
    public void ErrNoKeyFromAPutOnAnExistingKeyIsNotLinearizable() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 30, "k", "b", 4, KvOutput.NoKey)));

    [Fact]
    public void ErrMaybePutThatWasAppliedIsLinearizable() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 30, "k", "b", 1, KvOutput.Maybe),
            Get(2, 40, 50, "k", "b", 2)));

    [Fact]
    public void ErrMaybePutThatWasNotAppliedIsLinearizable() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 30, "k", "b", 1, KvOutput.Maybe),
            Get(2, 40, 50, "k", "a", 1)));

    [Fact]
    public void ErrMaybePutCannotBeAppliedAfterItReturned() =>
        // The ErrMaybe put's version (1) matches only after a later put, which starts after it returned: too late.
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 5, "k", "a", 0),
            Put(1, 10, 20, "k", "late", 2, KvOutput.Maybe),
            Put(2, 30, 40, "k", "b", 1),
            Get(3, 50, 60, "k", "late", 3)));

    [Fact]
    public void ErrMaybePutIsNotAppliedTwice() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 30, "k", "b", 1, KvOutput.Maybe),
            Get(2, 40, 50, "k", "b", 2),
            Get(2, 60, 70, "k", "b", 3)));

    [Fact]
    public void PendingPutMayTakeEffectLongAfterItsCall() =>
        // The pending put(version 1) can only apply once the key is at version 1, which happens at t=50..60.
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, null, "k", "p", 1),
            Put(2, 50, 60, "k", "a", 0),
            Get(3, 1000, 1010, "k", "p", 2)));

    [Fact]
    public void PendingPutMayNeverTakeEffect() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 0),
            Put(2, 20, null, "k", "p", 1),
            Get(3, 1000, 1010, "k", "a", 1),
            Get(3, 2000, 2010, "k", "a", 1)));

    [Fact]
    public void PendingPutCannotTakeEffectBeforeItsCall() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Get(3, 0, 10, "k", "p", 1),
            Put(1, 20, null, "k", "p", 0)));

    [Fact]
    public void PendingPutThatWasSeenCannotBeUnseen() =>
        Assert.Equal(CheckOutcome.Illegal, Check(
            Put(1, 0, null, "k", "p", 0),
            Get(2, 10, 20, "k", "p", 1),
            GetNoKey(3, 30, 40, "k")));

    [Fact]
    public void PendingGetImposesNothing() =>
        Assert.Equal(CheckOutcome.Ok, Check(
            Get(1, 0, null, "k", "ignored", 99),
            Put(2, 10, 20, "k", "a", 0),
            Get(3, 30, 40, "k", "a", 1)));

    [Fact]
    public void OperationsThatTouchAtOneInstantCountAsConcurrent() =>
        // The put returns at 10 and the get is called at 10: either order is allowed.
        Assert.Equal(CheckOutcome.Ok, Check(
            Put(1, 0, 10, "k", "a", 0),
            GetNoKey(2, 10, 20, "k")));

    [Fact]
    public void KeysAreCheckedIndependentlyAndOnlyTheBrokenKeyFails()
    {
        var result = VersionedKv.Check(
        [
            Put(1, 0, 10, "good", "a", 0),
            Get(2, 20, 30, "good", "a", 1),
            Put(1, 0, 10, "bad", "a", 0),
            GetNoKey(2, 20, 30, "bad"),
        ]);
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        Assert.Equal(["good", "bad"], result.Partitions.Select(p => p.Key));
        Assert.Equal(CheckOutcome.Ok, result.Partitions[0].Outcome);
        Assert.Equal(CheckOutcome.Illegal, result.Partitions[1].Outcome);
    }

    [Fact]
    public void FailureNamesTheStaleReadAndTheLongestLinearizablePrefix()
    {
        var result = VersionedKv.Check(
        [
            Put(1, 0, 10, "k", "a", 0),   // #0
            Put(1, 20, 30, "k", "b", 1),  // #1
            Get(2, 40, 50, "k", "a", 1),  // #2: stale
            Get(2, 60, 70, "k", "b", 2),  // #3
        ]);
        var failed = Assert.Single(result.FailedPartitions);
        Assert.Equal([0, 1], failed.LongestLinearization);
        Assert.Equal(2, failed.Deadline);
        Assert.Equal([2], failed.Stuck);
        Assert.Equal("(\"b\", v2)", failed.StateAfterLongest);
    }

    [Fact]
    public void LinearizableHistoryComesWithACompleteLinearization()
    {
        var result = VersionedKv.Check(
        [
            Get(3, 0, 100, "k", "b", 2),
            Put(2, 1, 99, "k", "b", 1),
            Put(1, 2, 98, "k", "a", 0),
        ]);
        Assert.Equal([2, 1, 0], Assert.Single(result.Partitions).LongestLinearization);
    }

    [Fact]
    public void OperationReturningBeforeItsCallIsRejected() =>
        Assert.Throws<ArgumentException>(() => VersionedKv.Check([Put(1, 10, 5, "k", "a", 0)]));
}
