using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Tests;

/// <summary>Bad <c>flotilla server</c> peer flags are usage errors on one line, before anything is started.</summary>
public class ServerFlagsTests
{
    private static readonly string Data = Path.Combine(Path.GetTempPath(), "flotilla-server-flags-never-created");

    [Theory]
    [InlineData("1=127.0.0.1:8001,2=nonsense", "--peer-urls")]
    [InlineData("1=http://127.0.0.1:8001,2=127.0.0.1:8002", "tcp://")]
    [InlineData("2=127.0.0.1:8002", "--peer-urls does not list member 1")]
    [InlineData("1=127.0.0.1:8001,2=127.0.0.1:8002,7=127.0.0.1:8007", "not members")]
    public async Task BadPeerUrlsAreAUsageError(string peerUrls, string expected)
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001,2=127.0.0.1:7002",
            "--peer-urls", peerUrls, "--data", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Data));
    }

    [Fact]
    public async Task PeerListenWithoutPeerUrlsIsAUsageError()
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001",
            "--peer-listen", "127.0.0.1:8001", "--data", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--peer-listen needs --peer-urls", error);
    }
}

/// <summary><c>flotilla server --reads</c> and <c>--max-clock-drift</c>: bad values are one-line usage errors.</summary>
public class ServerReadsFlagTests
{
    private static readonly string Data = Path.Combine(Path.GetTempPath(), "flotilla-server-reads-never-created");

    [Theory]
    [InlineData(new[] { "--reads", "everywhere" }, "--reads: 'everywhere' is not leader, lease or follower")]
    [InlineData(new[] { "--reads", "lease", "--max-clock-drift", "400ms" }, "below the minimum election timeout (400 ms)")]
    [InlineData(new[] { "--reads", "follower", "--shard-groups", "1" }, "the sharded store (--shard-groups) reads through the leader")]
    public async Task BadReadModeOrDriftIsAUsageError(string[] flags, string expected)
    {
        var (code, _, error) = await CliHarness.RunAsync(["server", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", Data, .. flags]);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Data));
    }
}
