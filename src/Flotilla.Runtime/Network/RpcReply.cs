namespace Flotilla.Runtime.Network;

/// <summary>How a call ended. Every status except <see cref="Ok"/> means the caller learned nothing
/// about whether the request was processed.</summary>
public enum RpcStatus
{
    /// <summary>The target processed the request and this is its reply.</summary>
    Ok,
    /// <summary>The target could not be reached (connection refused, node down, link cut).</summary>
    Unavailable,
    /// <summary>No reply arrived before the deadline: the request or the reply may have been lost.</summary>
    Timeout,
    /// <summary>The caller cancelled the call.</summary>
    Cancelled,
    /// <summary>The target received the request but its handler failed (unknown method, handler threw).</summary>
    Failed,
}

/// <summary>The outcome of <see cref="ITransport.CallAsync"/>: errors are values, not exceptions, because a
/// lost message is an everyday event for a distributed protocol, not a bug.</summary>
public readonly record struct RpcReply(RpcStatus Status, ReadOnlyMemory<byte> Payload, string? Error = null)
{
    public bool IsOk => Status == RpcStatus.Ok;

    public static RpcReply Ok(ReadOnlyMemory<byte> payload) => new(RpcStatus.Ok, payload);
    public static RpcReply Fail(RpcStatus status, string? error = null) => new(status, ReadOnlyMemory<byte>.Empty, error);

    public override string ToString() => IsOk ? $"Ok({Payload.Length} bytes)" : $"{Status}{(Error is null ? "" : ": " + Error)}";
}
