using Flotilla.Cli.Nemesis;

namespace Flotilla.Cli.Tests.Nemesis;

public class LockHoldsTests
{
    private const double TicksPerMs = 1000;

    [Fact]
    public void HoldsThatFollowEachOtherAreNoViolation()
    {
        var holds = new LockHolds();
        holds.Add(new LockHold(1, From: 0, TrustedUntil: 5_000, FencingToken: 1));
        holds.Add(new LockHold(2, From: 5_000, TrustedUntil: 9_000, FencingToken: 3));
        holds.Add(new LockHold(1, From: 12_000, TrustedUntil: 13_000, FencingToken: 5));
        Assert.Empty(holds.Violations(TicksPerMs));
        Assert.Equal(3, holds.Count);
    }

    [Fact]
    public void OverlappingHoldsOfDifferentClientsAreFoundWithTheOverlap()
    {
        var holds = new LockHolds();
        holds.Add(new LockHold(2, From: 4_000, TrustedUntil: 9_000, FencingToken: 4));
        holds.Add(new LockHold(1, From: 0, TrustedUntil: 6_500, FencingToken: 2));
        var found = Assert.Single(holds.Violations(TicksPerMs));
        Assert.Equal("lock client 1 (token 2) and client 2 (token 4) both held the lock for 2.5 ms", found);
    }

    [Fact]
    public void AHoldContainingSeveralOthersIsFoundAgainstEach()
    {
        var holds = new LockHolds();
        holds.Add(new LockHold(1, From: 0, TrustedUntil: 100_000, FencingToken: 1));
        holds.Add(new LockHold(2, From: 10_000, TrustedUntil: 20_000, FencingToken: 3));
        holds.Add(new LockHold(3, From: 30_000, TrustedUntil: 40_000, FencingToken: 5));
        // The same client's own consecutive holds never count.
        holds.Add(new LockHold(1, From: 50_000, TrustedUntil: 60_000, FencingToken: 7));
        Assert.Equal(2, holds.Violations(TicksPerMs).Count);
    }
}
