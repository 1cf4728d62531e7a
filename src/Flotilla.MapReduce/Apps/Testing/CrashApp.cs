using System.Globalization;
using System.Security.Cryptography;

namespace Flotilla.MapReduce.Apps.Testing;

/// <summary>
/// Fault injection (6.5840 crash.go): before each task, a third of the time the worker process exits, a third
/// of the time it stalls for a random delay (up to FLOTILLA_MR_CRASH_DELAY_MS, default 10 000 ms), else it
/// works normally. Output equals <see cref="NoCrashApp"/>'s.
/// </summary>
internal sealed class CrashApp : NoCrashApp
{
    public const string DelayEnvironmentVariable = "FLOTILLA_MR_CRASH_DELAY_MS";

    protected override void BeforeTask()
    {
        var roll = RandomNumberGenerator.GetInt32(1000);
        if (roll < 330)
        {
            Environment.Exit(1);
        }
        else if (roll < 660)
        {
            var delayMsMax = int.TryParse(Environment.GetEnvironmentVariable(DelayEnvironmentVariable), NumberStyles.Integer,
                CultureInfo.InvariantCulture, out var configured) ? configured : 10_000;
            Thread.Sleep(RandomNumberGenerator.GetInt32(Math.Max(1, delayMsMax)));
        }
    }
}
