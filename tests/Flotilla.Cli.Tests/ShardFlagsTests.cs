using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Tests;

/// <summary>Bad flags for a sharded server or cluster are usage errors on one line, before anything is started.</summary>
public class ShardFlagsTests
{
    private static readonly string Data = Path.Combine(Path.GetTempPath(), "flotilla-shard-flags-never-created");

    [Theory]
    [InlineData("0", "16", "positive")]
    [InlineData("1,x", "16", "not a group id")]
    [InlineData("1,1", "16", "listed twice")]
    [InlineData("1,2", "0", "1 to 1024 shards")]
    public async Task BadShardGroupsOrShardCountAreAUsageError(string groups, string shards, string expected)
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001",
            "--shard-groups", groups, "--shards", shards, "--data", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Data));
    }

    [Fact]
    public async Task ShardsWithoutShardGroupsIsAUsageError()
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001", "--shards", "8", "--data", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--shards needs --shard-groups", error);
    }

    [Theory]
    [InlineData("0", "16", "--groups must be between 1 and 16")]
    [InlineData("17", "16", "--groups must be between 1 and 16")]
    [InlineData("2", "2000", "--shards must be between 1 and 1024")]
    public async Task ClusterStartWithBadGroupsOrShardsIsAUsageError(string groups, string shards, string expected)
    {
        var (code, _, error) = await CliHarness.RunAsync("cluster", "start", "--groups", groups, "--shards", shards, "--dir", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, error);
        Assert.False(Directory.Exists(Data));
    }

    [Fact]
    public async Task ClusterStartOfTheShardedStoreRefusesLeaseOrFollowerReads()
    {
        var (code, _, error) = await CliHarness.RunAsync("cluster", "start", "--groups", "2", "--reads", "lease", "--dir", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--reads lease is for the replicated store", error);
        Assert.False(Directory.Exists(Data));
    }

    [Fact]
    public async Task ShardCommandsOnAReplicatedClusterFileAreBadInput()
    {
        var path = Path.Combine(Path.GetTempPath(), $"flotilla-replicated-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"kind\":\"replicated-kv\",\"endpoints\":[\"http://127.0.0.1:1\"]}");
        try
        {
            foreach (var args in new[] { new[] { "shard", "status" }, ["shard", "move", "0", "1"], ["shard", "leave", "1"], ["shard", "join", "1"] })
            {
                var (code, _, error) = await CliHarness.RunAsync([.. args, "--cluster", path]);
                Assert.Equal(ExitCodes.BadInput, code);
                Assert.Contains("describes a replicated-kv cluster, not a sharded one", error);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
