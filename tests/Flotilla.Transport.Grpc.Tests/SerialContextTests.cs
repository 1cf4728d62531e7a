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

    [Fact]
    public async Task ExecuteHandsABusyQueueToThePoolAfterItsBudgetAndKeepsTheOrder()
    {
        var context = new SerialSynchronizationContext();
        const int posted = SerialSynchronizationContext.InlineBudget * 3;
        var order = new List<int>();
        var threads = new List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int? readerId = null;
        var reader = new Thread(() =>
        {
            readerId = Environment.CurrentManagedThreadId;
            context.Execute(_ =>
            {
                // A burst of work arrives while the reader thread is running the node.
                for (var i = 0; i < posted; i++)
                {
                    var n = i;
                    context.Post(_ =>
                    {
                        order.Add(n);
                        threads.Add(Environment.CurrentManagedThreadId);
                        if (n == posted - 1) done.SetResult();
                    }, null);
                }
            }, null);
        });
        reader.Start();
        reader.Join(Wait.Deadline);
        await done.Task.WaitAsync(Wait.Deadline);

        Assert.Equal(Enumerable.Range(0, posted), order);
        // The reader ran its own callback plus at most budget - 1 of the burst, then went back to its socket.
        Assert.Equal(SerialSynchronizationContext.InlineBudget - 1, threads.Count(t => t == readerId));
    }
}
