using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Tests;

/// <summary><c>flotilla server --initial-state/--initial-voters</c>: contradictory flags are usage errors, and a member
/// of an existing cluster refuses an empty data directory (it lost its disk) with one line naming <c>cluster replace</c>,
/// before it writes anything.</summary>
public class ServerInitialStateTests
{
    [Theory]
    [InlineData("new", "1,2", "3", "not among them")]
    [InlineData("join", "1,2,3", "3", "must be outside --initial-voters")]
    [InlineData("existing", "1,0", "1", "--initial-voters: '0' is not a positive member id")]
    [InlineData("maybe", "1,2,3", "1", "maybe")]
    public async Task ContradictoryFlagsAreAUsageError(string state, string voters, string id, string expected)
    {
        var data = Path.Combine(Path.GetTempPath(), $"flotilla-initial-state-{Guid.NewGuid():N}");
        var (code, output, error) = await CliHarness.RunAsync("server", "--id", id, "--peers", "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003",
            "--data", data, "--initial-state", state, "--initial-voters", voters, "--insecure-peers");

        Assert.True(code == ExitCodes.Usage, output + error);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task AnExistingMemberRefusesAnEmptyDataDirectory()
    {
        var data = Path.Combine(Path.GetTempPath(), $"flotilla-initial-state-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        try
        {
            var (code, output, error) = await CliHarness.RunAsync("server", "--id", "2", "--peers", "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003",
                "--data", data, "--initial-state", "existing", "--initial-voters", "1,2,3", "--insecure-peers");

            Assert.True(code == ExitCodes.BadInput, output + error);
            Assert.Equal($"flotilla: error: refusing to start: {data} holds no Raft state, and member 2 belongs to an existing cluster (it lost its disk?); " +
                         "a member id is never reused: replace it with 'flotilla cluster replace 2 --cluster FILE'", error.Trim());
            Assert.Empty(Directory.EnumerateFileSystemEntries(data));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Without --initial-state the server cannot tell a new cluster's first start from a member that lost its
    /// disk: an empty directory is refused (after the other flags are checked), naming the two flags that start one.</summary>
    [Fact]
    public async Task WithoutAnInitialStateAnEmptyDataDirectoryIsRefused()
    {
        var data = Path.Combine(Path.GetTempPath(), $"flotilla-initial-state-{Guid.NewGuid():N}");
        Directory.CreateDirectory(data);
        try
        {
            var (code, output, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", data, "--insecure-peers");

            Assert.True(code == ExitCodes.Usage, output + error);
            Assert.Equal($"flotilla: error: {data} holds no Raft state: pass --initial-state new (the first start of a new cluster) or " +
                         "--initial-state join (a new member of a running one)", error.Trim());
            Assert.Empty(Directory.EnumerateFileSystemEntries(data));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
