namespace Flotilla.Linearizability.Checking;

/// <summary>The verdict for a whole history: Illegal if any partition is illegal, else Unknown if any timed out, else
/// Ok.</summary>
public sealed record CheckResult(CheckOutcome Outcome, IReadOnlyList<PartitionResult> Partitions, TimeSpan Elapsed, TimeSpan? Timeout)
{
    public bool IsLinearizable => Outcome == CheckOutcome.Ok;

    public IEnumerable<PartitionResult> FailedPartitions => Partitions.Where(p => p.Outcome == CheckOutcome.Illegal);

    internal static CheckOutcome Combine(IEnumerable<CheckOutcome> outcomes)
    {
        var any = CheckOutcome.Ok;
        foreach (var o in outcomes)
        {
            if (o == CheckOutcome.Illegal) return CheckOutcome.Illegal;
            if (o == CheckOutcome.Unknown) any = CheckOutcome.Unknown;
        }
        return any;
    }
}
