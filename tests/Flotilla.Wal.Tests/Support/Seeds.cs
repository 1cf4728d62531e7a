namespace Flotilla.Wal.Tests.Support;

/// <summary>Seeds for randomized scenarios: FLOTILLA_SEED=&lt;n&gt; replays one, FLOTILLA_SEEDS=&lt;n&gt; raises the count.</summary>
public static class Seeds
{
    public static IEnumerable<int> Get(int defaultCount)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("FLOTILLA_SEED"), out var one)) return [one];
        var count = int.TryParse(Environment.GetEnvironmentVariable("FLOTILLA_SEEDS"), out var n) ? n : defaultCount;
        return Enumerable.Range(1, count);
    }

    /// <summary>Runs <paramref name="body"/> for every seed; a failure names the seed and how to replay it.</summary>
    public static async Task RunAsync(int defaultCount, string testName, Func<int, Task> body)
    {
        foreach (var seed in Get(defaultCount))
        {
            try
            {
                await body(seed);
            }
            catch (Exception e)
            {
                throw new Exception($"seed {seed} failed; replay: FLOTILLA_SEED={seed} dotnet test tests/Flotilla.Wal.Tests --filter {testName}", e);
            }
        }
    }
}
