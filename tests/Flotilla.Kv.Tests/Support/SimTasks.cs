namespace Flotilla.Kv.Tests.Support;

internal static class SimTasks
{
    /// <summary>
    /// Awaits every task in turn. Unlike <c>Task.WhenAll</c>, each await resumes through the caller's (simulated)
    /// context, so nothing completes on a thread-pool thread behind the simulator's back.
    /// </summary>
    public static async Task All(IEnumerable<Task> tasks)
    {
        foreach (var task in tasks.ToList()) await task;
    }
}
