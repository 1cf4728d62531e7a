namespace Flotilla.MapReduce.Tests.Support;

/// <summary>Test-mr style: one coordinator process and N worker processes, all in one directory.</summary>
internal static class LocalJob
{
    public static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Runs a job to completion and asserts every process exits cleanly.</summary>
    public static async Task RunAsync(ProcessScope scope, string directory, string app, IReadOnlyList<string> inputs, int workers,
        IEnumerable<string>? coordinatorArguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (coordinator, address) = await scope.StartCoordinatorAsync(directory, coordinatorArguments ?? ["--reduce", "10"], inputs);
        var started = Enumerable.Range(0, workers).Select(_ => scope.StartWorker(directory, app, address, environment: environment)).ToList();
        var exit = await coordinator.WaitForExitAsync(JobTimeout);
        Assert.True(exit == 0, $"coordinator exited with {exit}: {coordinator.StandardOutput} {coordinator.StandardError}");
        foreach (var worker in started)
        {
            var code = await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"worker exited with {code}: {worker.StandardError}; coordinator said: {coordinator.StandardOutput}");
        }
    }
}
