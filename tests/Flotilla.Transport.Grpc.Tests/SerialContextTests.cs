using Flotilla.Runtime.Execution;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>The real runtime's node scheduler, as the framed-TCP reader threads use it.</summary>
public sealed class SerialContextTests
{
    [Fact]
    public void ExecuteOnAnIdleContextRunsOnTheCallingThreadWithTheContextCurrent()
    {
        var context = new SerialSynchronizationContext();
        int? ranOn = null, caller = null;
        SynchronizationContext? current = null, after = new();

        // A plain thread with no context of its own, like a transport's reader thread (the test runner's has one).
        var reader = new Thread(() =>
        {
            caller = Environment.CurrentManagedThreadId;
            context.Execute(_ => { ranOn = Environment.CurrentManagedThreadId; current = SynchronizationContext.Current; }, null);
            after = SynchronizationContext.Current;
        });
        reader.Start();
        reader.Join();

        Assert.Equal(caller, ranOn);
        Assert.Same(context, current);
        Assert.Null(after);
    }

    [Fact]
    public async Task ExecuteOnABusyContextWaitsItsTurnInOrderWithoutOverlap()
    {
        var context = new SerialSynchronizationContext();
        var order = new List<int>();
        var running = 0;
        var overlaps = 0;
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Step(int i)
        {
            if (Interlocked.Increment(ref running) != 1) Interlocked.Increment(ref overlaps);
            order.Add(i);
            Interlocked.Decrement(ref running);
        }

        context.Post(_ => { Step(0); inside.Set(); release.Wait(); }, null);
        inside.Wait();
        // The context is busy on another thread: these must queue behind it, not run here.
        context.Execute(_ => Step(1), null);
        context.Post(_ => Step(2), null);
        context.Execute(_ => { Step(3); done.SetResult(); }, null);
        Assert.Equal([0], order);
        release.Set();
        await done.Task.WaitAsync(Wait.Deadline);

        Assert.Equal([0, 1, 2, 3], order);
        Assert.Equal(0, overlaps);
    }
}
