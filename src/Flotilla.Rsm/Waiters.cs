namespace Flotilla.Rsm;

/// <summary>A submit waiting for its log index to apply. Completing is idempotent: the first outcome wins.</summary>
internal sealed class PendingSubmit(ulong index, ulong term, long deadlineTimestamp)
{
    public ulong Index { get; } = index;
    public ulong Term { get; } = term;
    public long DeadlineTimestamp { get; } = deadlineTimestamp;

    // Continuations run on the awaiting caller's context, never inline inside the apply loop.
    public TaskCompletionSource<SubmitResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDone => Done.Task.IsCompleted;

    /// <summary>The caller's cancellation hook; disposed on the node's scheduler once the waiter is removed.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>Sets the outcome (unless one is set already). Safe from any thread.</summary>
    public void Complete(SubmitResult result) => Done.TrySetResult(result);

    /// <summary>Sets the outcome and drops the cancellation hook: called by the owner after removing the waiter.</summary>
    public void Finish(SubmitResult result)
    {
        Complete(result);
        Registration.Dispose();
    }
}

/// <summary>A confirmed read waiting for the state machine to apply its read index.</summary>
internal sealed class PendingRead(ulong index, long deadlineTimestamp)
{
    public ulong Index { get; } = index;
    public long DeadlineTimestamp { get; } = deadlineTimestamp;
    public TaskCompletionSource<ReadStatus> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDone => Done.Task.IsCompleted;

    public void Complete(ReadStatus status) => Done.TrySetResult(status);
}
