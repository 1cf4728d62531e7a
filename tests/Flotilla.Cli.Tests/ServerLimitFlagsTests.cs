using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Tests;

/// <summary>Resource-limit flags of <c>flotilla server</c> out of range are usage errors on one line naming the flag,
/// before anything is started.</summary>
public class ServerLimitFlagsTests
{
    private static readonly string Data = Path.Combine(Path.GetTempPath(), "flotilla-server-limit-flags-never-created");

    [Theory]
    [InlineData("--peer-frame-max-bytes", "1000", "2097152..")]
    [InlineData("--peer-max-connections", "0", "out of range")]
    [InlineData("--peer-idle-timeout", "10ms", "at least 100ms")]
    [InlineData("--peer-idle-timeout", "soon", "as a duration")]
    [InlineData("--peer-first-frame-timeout", "-1s", "as a duration")]
    [InlineData("--client-max-message-bytes", "100", "4096..")]
    [InlineData("--client-max-streams-per-connection", "0", "out of range")]
    [InlineData("--client-max-connections", "-5", "out of range")]
    [InlineData("--client-max-calls", "0", "out of range")]
    public async Task ALimitOutOfRangeIsAUsageErrorNamingTheFlag(string flag, string value, string expected)
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", Data, flag, value);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(flag, error);
        Assert.Contains(expected, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(Data));
    }
}
