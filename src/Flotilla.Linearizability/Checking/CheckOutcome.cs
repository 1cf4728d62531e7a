namespace Flotilla.Linearizability.Checking;

public enum CheckOutcome
{
    /// <summary>A linearization was found: the history is linearizable.</summary>
    Ok,
    /// <summary>The search was exhaustive and found none: the history is not linearizable.</summary>
    Illegal,
    /// <summary>The search did not finish (timed out). Never treat this as a pass.</summary>
    Unknown,
}
