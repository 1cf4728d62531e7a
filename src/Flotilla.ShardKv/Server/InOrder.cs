namespace Flotilla.ShardKv.Server;

/// <summary>Awaiting tasks that are already running, one after the other. Not <c>Task.WhenAll</c>: the RSM completes
/// its tasks with RunContinuationsAsynchronously, so a WhenAll would resume on the thread pool, off the node's
/// scheduler (the simulator rejects that as nondeterminism; a real node would race its own state).</summary>
internal static class InOrder
{
    public static async Task<List<T>> AwaitAll<T>(IEnumerable<Task<T>> tasks)
    {
        var started = tasks.ToList();
        var results = new List<T>(started.Count);
        foreach (var task in started) results.Add(await task);
        return results;
    }

    public static async Task AwaitAll(IEnumerable<Task> tasks)
    {
        foreach (var task in tasks.ToList()) await task;
    }
}
