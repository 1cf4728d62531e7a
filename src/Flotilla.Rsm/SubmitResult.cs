using Flotilla.Runtime;

namespace Flotilla.Rsm;

/// <summary>How a <see cref="ReplicatedStateMachine.SubmitAsync"/> ended. The statuses split in two groups a caller
/// must tell apart: "definitely not applied" (safe to retry anywhere) and "unknown" (it may yet apply).</summary>
public enum SubmitStatus : byte
{
    /// <summary>Applied on this replica; the result is the service's answer.</summary>
    Ok,
    /// <summary>Not proposed: this node is not the leader (see the leader hint). Definitely not applied.</summary>
    NotLeader,
    /// <summary>Not proposed: the leader refuses for now (leadership transfer, too many uncommitted entries). Definitely not applied.</summary>
    Busy,
    /// <summary>Proposed, but a different entry committed at its index (a newer leader overwrote it). Definitely not applied.</summary>
    NotCommitted,
    /// <summary>Proposed, then this node lost leadership (term moved on or it stepped down) before the index applied.
    /// Outcome unknown: the entry may still commit under the next leader.</summary>
    LeadershipLost,
    /// <summary>Proposed, but not applied within <see cref="RsmOptions.SubmitTimeout"/>. Outcome unknown.</summary>
    Timeout,
    /// <summary>The caller's token was cancelled while waiting. Outcome unknown.</summary>
    Cancelled,
    /// <summary>The replica shut down (or had shut down). Outcome unknown.</summary>
    Stopped,
}

public readonly record struct SubmitResult(SubmitStatus Status, ReadOnlyMemory<byte> Result = default, NodeId? LeaderHint = null)
{
    public bool IsOk => Status == SubmitStatus.Ok;

    /// <summary>True when the command certainly never applied anywhere and never will: retrying cannot duplicate it.</summary>
    public bool DefinitelyNotApplied => Status is SubmitStatus.NotLeader or SubmitStatus.Busy or SubmitStatus.NotCommitted;

    public override string ToString() => Status == SubmitStatus.Ok ? $"Ok({Result.Length} bytes)" : $"{Status}{(LeaderHint is { } l ? $" (leader {l})" : "")}";
}

/// <summary>How a <see cref="ReplicatedStateMachine.ReadAsync{T}"/> ended. Reads change nothing, so every failure is safe to retry.</summary>
public enum ReadStatus : byte
{
    Ok,
    /// <summary>This node is not the leader (see the leader hint), or lost leadership before the read was confirmed.</summary>
    NotLeader,
    /// <summary>Leadership could not be confirmed in time (e.g. this leader is in a minority partition), or the state
    /// machine did not catch up to the read index within <see cref="RsmOptions.ReadTimeout"/>.</summary>
    Timeout,
    Cancelled,
    Stopped,
}

public readonly record struct ReadResult<T>(ReadStatus Status, T? Value = default, NodeId? LeaderHint = null)
{
    public bool IsOk => Status == ReadStatus.Ok;
}
