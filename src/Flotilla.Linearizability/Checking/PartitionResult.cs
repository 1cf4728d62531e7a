namespace Flotilla.Linearizability.Checking;

/// <summary>
/// The verdict for the operations of one partition (one key), with what the HTML view and error messages need.
/// All operation numbers are indices into the checked history.
/// </summary>
/// <param name="Key">The partition key (<c>null</c> for the shared partition).</param>
/// <param name="Operations">The operations of this partition, in history order.</param>
/// <param name="LongestLinearization">For <see cref="CheckOutcome.Ok"/>: a full linearization. Otherwise the longest
/// linearizable prefix the search found, in linearization order.</param>
/// <param name="StateAfterLongest">The model state after <paramref name="LongestLinearization"/>, described.</param>
/// <param name="Stuck">Where that prefix could not be extended: the operations that could have come next (each was
/// rejected by the model, or led only to dead ends already explored). Empty for Ok.</param>
/// <param name="UnknownCause">Why the search stopped, when <paramref name="Outcome"/> is Unknown.</param>
/// <param name="Deadline">The operation whose return forced the failure: it had to take effect before its return, and no
/// candidate order made that possible. <c>null</c> for Ok.</param>
public sealed record PartitionResult(
    string? Key,
    CheckOutcome Outcome,
    IReadOnlyList<int> Operations,
    IReadOnlyList<int> LongestLinearization,
    string StateAfterLongest,
    IReadOnlyList<int> Stuck,
    int? Deadline,
    long StatesExplored,
    UnknownCause UnknownCause = UnknownCause.None);
