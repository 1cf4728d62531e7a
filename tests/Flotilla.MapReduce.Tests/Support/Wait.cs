namespace Flotilla.MapReduce.Tests.Support;

/// <summary>Waiting on a condition with a deadline (never a fixed sleep).</summary>
internal static class Wait
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task<T> UntilAsync<T>(Func<T?> probe, TimeSpan timeout, string what, Func<string>? detail = null) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = probe();
            if (value is not null) return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}. {detail?.Invoke()}");
            await Task.Delay(Poll);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? detail = null) =>
        UntilAsync(() => condition() ? "" : null, timeout, what, detail);
}
