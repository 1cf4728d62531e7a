using Flotilla.Cli.Infrastructure;
using Flotilla.Cli.Nemesis;
using Flotilla.Linearizability.Checking;

namespace Flotilla.Cli.Tests.Nemesis;

public class NemesisVerdictTests
{
    private static readonly NemesisFindings Clean = new()
    {
        Operations = 1200,
        Maybe = 7,
        Faults = 5,
        Recovery = TimeSpan.FromMilliseconds(1234),
        RecoveryLimit = TimeSpan.FromSeconds(30),
        Check = CheckOutcome.Ok,
        CheckSummary = "linearizable",
        LostWrites = [],
    };

    [Fact]
    public void ACleanRunIsLinearizableWithItsNumbers() =>
        Assert.Equal((ExitCodes.Ok, "nemesis: linearizable ops=1200 maybe=7 faults=5 recovery=1.23s"), NemesisVerdict.Decide(Clean));

    [Fact]
    public void AViolationFailsAndSaysWhichKey()
    {
        var (code, line) = NemesisVerdict.Decide(Clean with { Check = CheckOutcome.Illegal, CheckSummary = "NOT linearizable (key \"k1\": stale read)" });
        Assert.Equal(ExitCodes.Failure, code);
        Assert.StartsWith("nemesis: NOT linearizable ops=1200 maybe=7 faults=5", line);
        Assert.Contains("k1", line);
    }

    [Fact]
    public void AViolationOutranksEveryOtherFinding()
    {
        var (_, line) = NemesisVerdict.Decide(Clean with { Check = CheckOutcome.Illegal, Recovery = null, LostWrites = ["k1: lost"] });
        Assert.StartsWith("nemesis: NOT linearizable", line);
    }

    [Fact]
    public void ALostAcknowledgedWriteFailsEvenWhenTheHistoryIsLinearizable()
    {
        var (code, line) = NemesisVerdict.Decide(Clean with { LostWrites = ["k2: acknowledged version 9, read version 8"] });
        Assert.Equal(ExitCodes.Failure, code);
        Assert.StartsWith("nemesis: LOST 1 acknowledged write(s)", line);
        Assert.Contains("k2: acknowledged version 9", line);
    }

    [Fact]
    public void TwoClientsHoldingTheLockAtOnceFailsAfterAViolationOnly()
    {
        var (code, line) = NemesisVerdict.Decide(Clean with { LockViolations = ["lock client 1 (token 7) and client 2 (token 9) both held the lock for 12 ms"], LostWrites = ["k1: lost"] });
        Assert.Equal(ExitCodes.Failure, code);
        Assert.StartsWith("nemesis: LOCK VIOLATED: 1 overlapping hold(s) ops=1200", line);
        Assert.Contains("client 2 (token 9)", line);
        Assert.StartsWith("nemesis: NOT linearizable", NemesisVerdict.Decide(Clean with { Check = CheckOutcome.Illegal, LockViolations = ["x"] }).Line);
    }

    [Fact]
    public void NoRecoveryWithinTheLimitFails()
    {
        var (code, line) = NemesisVerdict.Decide(Clean with { Recovery = null });
        Assert.Equal(ExitCodes.Failure, code);
        Assert.StartsWith("nemesis: NOT available: no put succeeded within 30 s", line);
        Assert.Contains("recovery=none", line);
    }

    [Fact]
    public void AnUndecidedCheckIsNeverAPass()
    {
        var (code, line) = NemesisVerdict.Decide(Clean with { Check = CheckOutcome.Unknown, CheckSummary = "unknown (timed out after 60 s)" });
        Assert.Equal(ExitCodes.Unknown, code);
        Assert.StartsWith("nemesis: unknown", line);
    }
}
