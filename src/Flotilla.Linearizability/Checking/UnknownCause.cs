namespace Flotilla.Linearizability.Checking;

/// <summary>Why a search stopped without a verdict.</summary>
public enum UnknownCause
{
    /// <summary>Not unknown: the search finished.</summary>
    None,
    /// <summary>The timeout (or the caller's cancellation) stopped it.</summary>
    TimedOut,
    /// <summary>It hit <see cref="CheckOptions.MaxVisitedStatesPerPartition"/>.</summary>
    StateLimit,
}
