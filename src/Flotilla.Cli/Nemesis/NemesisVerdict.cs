using System.Globalization;
using Flotilla.Cli.Infrastructure;
using Flotilla.Linearizability.Checking;

namespace Flotilla.Cli.Nemesis;

/// <summary>What a run found, gathered for <see cref="NemesisVerdict.Decide"/>.</summary>
public sealed record NemesisFindings
{
    public required int Operations { get; init; }
    public required long Maybe { get; init; }
    public required int Faults { get; init; }
    /// <summary>From healing to the first acknowledged put; null if none came within <see cref="RecoveryLimit"/>.</summary>
    public required TimeSpan? Recovery { get; init; }
    public required TimeSpan RecoveryLimit { get; init; }
    public required CheckOutcome Check { get; init; }
    /// <summary>The checker's one-line summary (which key failed and why).</summary>
    public required string CheckSummary { get; init; }
    /// <summary>Acknowledged writes not readable after healing, one line each ("k1: acked version 7, read version 5").</summary>
    public required IReadOnlyList<string> LostWrites { get; init; }
    /// <summary>Pairs of lock holds by different clients that overlapped in time, one line each.</summary>
    public IReadOnlyList<string> LockViolations { get; init; } = [];
}

/// <summary>The closing line and exit code of a run. Worst finding first: a linearizability violation, then two
/// clients holding the lock at once, then lost acknowledged writes, then no recovery, then a check that could not
/// decide.</summary>
public static class NemesisVerdict
{
    public static (int ExitCode, string Line) Decide(NemesisFindings f)
    {
        var counts = $"ops={f.Operations} maybe={f.Maybe} faults={f.Faults} recovery={Seconds(f.Recovery)}";
        if (f.Check == CheckOutcome.Illegal) return (ExitCodes.Failure, $"nemesis: NOT linearizable {counts}: {f.CheckSummary}");
        if (f.LockViolations.Count > 0)
            return (ExitCodes.Failure, $"nemesis: LOCK VIOLATED: {f.LockViolations.Count} overlapping hold(s) {counts}: {string.Join("; ", f.LockViolations.Take(3))}");
        if (f.LostWrites.Count > 0)
            return (ExitCodes.Failure, $"nemesis: LOST {f.LostWrites.Count} acknowledged write(s) {counts}: {string.Join("; ", f.LostWrites)}");
        if (f.Recovery is null)
            return (ExitCodes.Failure, $"nemesis: NOT available: no put succeeded within {f.RecoveryLimit.TotalSeconds:0} s of healing {counts}");
        if (f.Check != CheckOutcome.Ok) return (ExitCodes.Unknown, $"nemesis: unknown (the checker could not decide) {counts}: {f.CheckSummary}");
        return (ExitCodes.Ok, $"nemesis: linearizable {counts}");
    }

    private static string Seconds(TimeSpan? t) => t is { } v ? v.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + "s" : "none";
}
