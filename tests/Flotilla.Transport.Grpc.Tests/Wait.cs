namespace Flotilla.Transport.Grpc.Tests;

/// <summary>Waits on a condition with a deadline, never a fixed sleep: the test is as fast as the system allows.</summary>
internal static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        using var limit = new CancellationTokenSource(deadline ?? Deadline);
        while (!condition())
        {
            if (limit.IsCancellationRequested) throw new TimeoutException($"still waiting for: {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>Retries <paramref name="attempt"/> until it returns true or the deadline passes.</summary>
    public static async Task UntilAsync(Func<Task<bool>> attempt, string what, TimeSpan? deadline = null)
    {
        using var limit = new CancellationTokenSource(deadline ?? Deadline);
        while (!await attempt())
        {
            if (limit.IsCancellationRequested) throw new TimeoutException($"still waiting for: {what}");
            await Task.Delay(20);
        }
    }
}
